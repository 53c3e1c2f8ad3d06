//! The structured entities the PII scanner reports, their rule metadata, and the context vocabulary that
//! raises or lowers their scores.

use std::borrow::Cow;

use rampart_core::{Category, RuleMeta, Severity};

/// A structured (pattern-and-checksum) entity type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Entity {
    Email,
    Phone,
    CreditCard,
    Iban,
    Swift,
    UsSsn,
    Ip,
    Mac,
    Url,
    DateOfBirth,
    Crypto,
    UsPassport,
    UsDriverLicense,
    UkNhs,
    UkNino,
    UkPassport,
    DeTaxId,
    DeIdCard,
    DePassport,
    FrNir,
    EsNif,
    EsNie,
    ItFiscalCode,
    ItDriverLicense,
    InAadhaar,
    InPan,
    InPassport,
}

impl Entity {
    /// Every structured entity, in rule order.
    pub const ALL: [Entity; 27] = [
        Entity::Email,
        Entity::Phone,
        Entity::CreditCard,
        Entity::Iban,
        Entity::Swift,
        Entity::UsSsn,
        Entity::Ip,
        Entity::Mac,
        Entity::Url,
        Entity::DateOfBirth,
        Entity::Crypto,
        Entity::UsPassport,
        Entity::UsDriverLicense,
        Entity::UkNhs,
        Entity::UkNino,
        Entity::UkPassport,
        Entity::DeTaxId,
        Entity::DeIdCard,
        Entity::DePassport,
        Entity::FrNir,
        Entity::EsNif,
        Entity::EsNie,
        Entity::ItFiscalCode,
        Entity::ItDriverLicense,
        Entity::InAadhaar,
        Entity::InPan,
        Entity::InPassport,
    ];

    /// Presidio-compatible entity name.
    pub fn entity_name(self) -> &'static str {
        self.rule().entity
    }

    /// Bit of this entity in an entity mask.
    pub fn bit(self) -> u32 {
        1 << (self as u32)
    }

    /// The rule that reports this entity.
    pub fn rule(self) -> &'static Rule {
        &RULES[self as usize]
    }
}

/// Static description of one rule.
pub struct Rule {
    pub id: &'static str,
    pub name: &'static str,
    pub entity: &'static str,
    pub severity: Severity,
    pub description: &'static str,
}

impl Rule {
    /// Metadata as the registry and front ends see it.
    pub fn meta(&self) -> RuleMeta {
        RuleMeta {
            id: Cow::Borrowed(self.id),
            name: Cow::Borrowed(self.name),
            entity: Some(Cow::Borrowed(self.entity)),
            category: Category::Pii,
            severity: self.severity,
            description: Cow::Borrowed(self.description),
        }
    }
}

const fn rule(
    id: &'static str,
    name: &'static str,
    entity: &'static str,
    severity: Severity,
    description: &'static str,
) -> Rule {
    Rule {
        id,
        name,
        entity,
        severity,
        description,
    }
}

use Severity::{High, Low, Medium};

/// One rule per entity, indexed by `Entity as usize`.
pub static RULES: [Rule; 27] = [
    rule(
        "PII0001",
        "email-address",
        "EMAIL_ADDRESS",
        Medium,
        "An e-mail address: a direct contact identifier of a person.",
    ),
    rule(
        "PII0002",
        "phone-number",
        "PHONE_NUMBER",
        Medium,
        "A telephone number in international or national format, checked against per-country lengths.",
    ),
    rule(
        "PII0003",
        "credit-card-number",
        "CREDIT_CARD",
        High,
        "A payment card number with a valid Luhn check digit and a known issuer range and length.",
    ),
    rule(
        "PII0004",
        "iban-code",
        "IBAN_CODE",
        Medium,
        "An International Bank Account Number with the right length for its country and a valid mod-97 checksum.",
    ),
    rule(
        "PII0005",
        "swift-code",
        "SWIFT_CODE",
        Low,
        "A bank identifier code (BIC/SWIFT); identifies a bank branch, personal only next to an account.",
    ),
    rule(
        "PII0006",
        "us-ssn",
        "US_SSN",
        High,
        "A US Social Security number with valid area, group and serial numbers.",
    ),
    rule(
        "PII0007",
        "ip-address",
        "IP_ADDRESS",
        Medium,
        "An IPv4 or IPv6 address, which can identify a person's device or network.",
    ),
    rule(
        "PII0008",
        "mac-address",
        "MAC_ADDRESS",
        Medium,
        "A hardware (MAC) address, a persistent device identifier.",
    ),
    rule(
        "PII0009",
        "url",
        "URL",
        Low,
        "A web address; weak on its own, reported so that policies can choose to act on it.",
    ),
    rule(
        "PII0010",
        "date-of-birth",
        "DATE_TIME",
        Medium,
        "A date introduced as a date of birth (other dates are not reported).",
    ),
    rule(
        "PII0011",
        "crypto-address",
        "CRYPTO",
        Medium,
        "A cryptocurrency wallet address (Bitcoin base58check or bech32, Ethereum with EIP-55 check).",
    ),
    rule(
        "PII0012",
        "us-passport",
        "US_PASSPORT",
        High,
        "A US passport number next to a passport keyword.",
    ),
    rule(
        "PII0013",
        "us-driver-license",
        "US_DRIVER_LICENSE",
        High,
        "A US driver's license number next to a licence keyword.",
    ),
    rule(
        "PII0014",
        "uk-nhs-number",
        "UK_NHS",
        High,
        "A UK NHS number with a valid mod-11 check digit.",
    ),
    rule(
        "PII0015",
        "uk-nino",
        "UK_NINO",
        High,
        "A UK National Insurance number with a valid prefix and suffix.",
    ),
    rule(
        "PII0016",
        "uk-passport",
        "UK_PASSPORT",
        High,
        "A UK passport number next to a passport keyword.",
    ),
    rule(
        "PII0017",
        "de-tax-id",
        "DE_TAX_ID",
        High,
        "A German tax identification number (Steuer-IdNr) with valid digit pattern and check digit.",
    ),
    rule(
        "PII0018",
        "de-id-card",
        "DE_ID_CARD",
        High,
        "A German identity card (Personalausweis) number with its 7-3-1 check digit, or next to an ID keyword.",
    ),
    rule(
        "PII0019",
        "de-passport",
        "DE_PASSPORT",
        High,
        "A German passport (Reisepass) number next to a passport keyword.",
    ),
    rule(
        "PII0020",
        "fr-nir",
        "FR_NIR",
        High,
        "A French social security number (NIR) with a valid 97-mod key.",
    ),
    rule(
        "PII0021",
        "es-nif",
        "ES_NIF",
        High,
        "A Spanish DNI/NIF with a valid control letter.",
    ),
    rule(
        "PII0022",
        "es-nie",
        "ES_NIE",
        High,
        "A Spanish foreigner identity number (NIE) with a valid control letter.",
    ),
    rule(
        "PII0023",
        "it-fiscal-code",
        "IT_FISCAL_CODE",
        High,
        "An Italian codice fiscale with a valid check character.",
    ),
    rule(
        "PII0024",
        "it-driver-license",
        "IT_DRIVER_LICENSE",
        High,
        "An Italian driving licence (patente) number next to a licence keyword.",
    ),
    rule(
        "PII0025",
        "in-aadhaar",
        "IN_AADHAAR",
        High,
        "An Indian Aadhaar number with a valid Verhoeff check digit.",
    ),
    rule(
        "PII0026",
        "in-pan",
        "IN_PAN",
        High,
        "An Indian Permanent Account Number (PAN) with a valid holder-type letter.",
    ),
    rule(
        "PII0027",
        "in-passport",
        "IN_PASSPORT",
        High,
        "An Indian passport number next to a passport keyword.",
    ),
];

/// What a context word is evidence for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Topic {
    Phone,
    Card,
    Ssn,
    Iban,
    Swift,
    Ip,
    Mac,
    Crypto,
    Passport,
    Driver,
    Nhs,
    Nino,
    TaxId,
    IdCard,
    Nir,
    Nif,
    Nie,
    FiscalCode,
    Aadhaar,
    Pan,
    Dob,
    Email,
    /// Business numbers that look like personal ones: orders, invoices, tracking, ISBNs.
    Negative,
    /// Software versions: dotted numbers after these are not addresses.
    Version,
    CueUs,
    CueUk,
    CueDe,
    CueIt,
    CueIn,
}

impl Topic {
    /// Bit of this topic in a topic mask.
    pub const fn bit(self) -> u32 {
        1 << (self as u8)
    }
}

/// Context vocabulary, lower case, several languages. Matched case-insensitively on word boundaries.
pub static CONTEXT_WORDS: &[(&str, Topic)] = &[
    // phone
    ("phone", Topic::Phone),
    ("telephone", Topic::Phone),
    ("tel", Topic::Phone),
    ("tel.", Topic::Phone),
    ("call", Topic::Phone),
    ("mobile", Topic::Phone),
    ("cell", Topic::Phone),
    ("fax", Topic::Phone),
    ("whatsapp", Topic::Phone),
    ("sms", Topic::Phone),
    ("text me", Topic::Phone),
    ("telefon", Topic::Phone),
    ("telefonnummer", Topic::Phone),
    ("handy", Topic::Phone),
    ("mobil", Topic::Phone),
    ("rufnummer", Topic::Phone),
    ("anrufen", Topic::Phone),
    ("téléphone", Topic::Phone),
    ("tél", Topic::Phone),
    ("portable", Topic::Phone),
    ("appeler", Topic::Phone),
    ("teléfono", Topic::Phone),
    ("telefono", Topic::Phone),
    ("móvil", Topic::Phone),
    ("celular", Topic::Phone),
    ("llamar", Topic::Phone),
    ("cellulare", Topic::Phone),
    ("chiamare", Topic::Phone),
    ("numero di telefono", Topic::Phone),
    ("mob", Topic::Phone),
    // card
    ("card", Topic::Card),
    ("credit card", Topic::Card),
    ("debit card", Topic::Card),
    ("visa", Topic::Card),
    ("mastercard", Topic::Card),
    ("amex", Topic::Card),
    ("cvv", Topic::Card),
    ("expiry", Topic::Card),
    ("kreditkarte", Topic::Card),
    ("karte", Topic::Card),
    ("karten", Topic::Card),
    ("carte", Topic::Card),
    ("carte bancaire", Topic::Card),
    ("tarjeta", Topic::Card),
    ("carta", Topic::Card),
    ("carta di credito", Topic::Card),
    // ssn
    ("ssn", Topic::Ssn),
    ("ss#", Topic::Ssn),
    ("social security", Topic::Ssn),
    ("social-security", Topic::Ssn),
    ("social sec", Topic::Ssn),
    // iban
    ("iban", Topic::Iban),
    ("bank account", Topic::Iban),
    ("account number", Topic::Iban),
    ("konto", Topic::Iban),
    ("kontonummer", Topic::Iban),
    ("bankverbindung", Topic::Iban),
    ("rib", Topic::Iban),
    ("compte", Topic::Iban),
    ("cuenta", Topic::Iban),
    ("conto", Topic::Iban),
    // swift
    ("swift", Topic::Swift),
    ("bic", Topic::Swift),
    ("swift code", Topic::Swift),
    ("bank code", Topic::Swift),
    ("bank identifier", Topic::Swift),
    // ip
    ("ip", Topic::Ip),
    ("ipv4", Topic::Ip),
    ("ipv6", Topic::Ip),
    ("ip address", Topic::Ip),
    ("host", Topic::Ip),
    ("server", Topic::Ip),
    ("client", Topic::Ip),
    ("remote", Topic::Ip),
    ("addr", Topic::Ip),
    ("connected from", Topic::Ip),
    ("ip-adresse", Topic::Ip),
    ("adresse ip", Topic::Ip),
    ("dirección ip", Topic::Ip),
    ("indirizzo ip", Topic::Ip),
    // mac
    ("mac", Topic::Mac),
    ("mac address", Topic::Mac),
    ("ethernet", Topic::Mac),
    ("wifi", Topic::Mac),
    ("wi-fi", Topic::Mac),
    ("wlan", Topic::Mac),
    ("bssid", Topic::Mac),
    ("hardware address", Topic::Mac),
    ("hwaddr", Topic::Mac),
    // crypto
    ("bitcoin", Topic::Crypto),
    ("btc", Topic::Crypto),
    ("wallet", Topic::Crypto),
    ("ethereum", Topic::Crypto),
    ("eth", Topic::Crypto),
    ("crypto", Topic::Crypto),
    ("usdt", Topic::Crypto),
    // passport
    ("passport", Topic::Passport),
    ("passport no", Topic::Passport),
    ("passport number", Topic::Passport),
    ("travel document", Topic::Passport),
    ("reisepass", Topic::Passport),
    ("reisepassnummer", Topic::Passport),
    ("passnummer", Topic::Passport),
    ("pass-nr", Topic::Passport),
    ("passeport", Topic::Passport),
    ("pasaporte", Topic::Passport),
    ("passaporto", Topic::Passport),
    // driver licence
    ("driver", Topic::Driver),
    ("drivers", Topic::Driver),
    ("driver's", Topic::Driver),
    ("driver license", Topic::Driver),
    ("driver's license", Topic::Driver),
    ("drivers license", Topic::Driver),
    ("driving licence", Topic::Driver),
    ("driving license", Topic::Driver),
    ("dl", Topic::Driver),
    ("dl#", Topic::Driver),
    ("führerschein", Topic::Driver),
    ("permis de conduire", Topic::Driver),
    ("permiso de conducir", Topic::Driver),
    ("carnet de conducir", Topic::Driver),
    ("patente", Topic::Driver),
    ("patente di guida", Topic::Driver),
    // uk
    ("nhs", Topic::Nhs),
    ("nhs number", Topic::Nhs),
    ("national health", Topic::Nhs),
    ("patient", Topic::Nhs),
    ("national insurance", Topic::Nino),
    ("ni number", Topic::Nino),
    ("nino", Topic::Nino),
    // de
    ("steuer-id", Topic::TaxId),
    ("steuerid", Topic::TaxId),
    ("steuer-idnr", Topic::TaxId),
    ("idnr", Topic::TaxId),
    ("steueridentifikationsnummer", Topic::TaxId),
    ("identifikationsnummer", Topic::TaxId),
    ("steuernummer", Topic::TaxId),
    ("tax id", Topic::TaxId),
    ("tax identification", Topic::TaxId),
    ("tin", Topic::TaxId),
    ("personalausweis", Topic::IdCard),
    ("ausweis", Topic::IdCard),
    ("ausweisnummer", Topic::IdCard),
    ("id card", Topic::IdCard),
    ("identity card", Topic::IdCard),
    ("carte d'identité", Topic::IdCard),
    // fr
    ("sécurité sociale", Topic::Nir),
    ("securite sociale", Topic::Nir),
    ("sécu", Topic::Nir),
    ("nir", Topic::Nir),
    ("insee", Topic::Nir),
    ("carte vitale", Topic::Nir),
    // es
    ("dni", Topic::Nif),
    ("nif", Topic::Nif),
    ("documento nacional", Topic::Nif),
    ("nie", Topic::Nie),
    ("extranjero", Topic::Nie),
    // it
    ("codice fiscale", Topic::FiscalCode),
    ("cod. fiscale", Topic::FiscalCode),
    ("fiscal code", Topic::FiscalCode),
    ("cf", Topic::FiscalCode),
    // in
    ("aadhaar", Topic::Aadhaar),
    ("aadhar", Topic::Aadhaar),
    ("uidai", Topic::Aadhaar),
    ("uid", Topic::Aadhaar),
    ("pan", Topic::Pan),
    ("pan card", Topic::Pan),
    ("permanent account number", Topic::Pan),
    ("income tax", Topic::Pan),
    // date of birth
    ("born", Topic::Dob),
    ("born on", Topic::Dob),
    ("dob", Topic::Dob),
    ("d.o.b", Topic::Dob),
    ("d.o.b.", Topic::Dob),
    ("date of birth", Topic::Dob),
    ("birth date", Topic::Dob),
    ("birthdate", Topic::Dob),
    ("birthday", Topic::Dob),
    ("geboren", Topic::Dob),
    ("geb.", Topic::Dob),
    ("geburtsdatum", Topic::Dob),
    ("geburtstag", Topic::Dob),
    ("né le", Topic::Dob),
    ("née le", Topic::Dob),
    ("né", Topic::Dob),
    ("née", Topic::Dob),
    ("date de naissance", Topic::Dob),
    ("nacido", Topic::Dob),
    ("nacida", Topic::Dob),
    ("fecha de nacimiento", Topic::Dob),
    ("nato", Topic::Dob),
    ("nata", Topic::Dob),
    ("nato il", Topic::Dob),
    ("nata il", Topic::Dob),
    ("data di nascita", Topic::Dob),
    // email
    ("email", Topic::Email),
    ("e-mail", Topic::Email),
    ("mail", Topic::Email),
    // business numbers
    ("order", Topic::Negative),
    ("order no", Topic::Negative),
    ("invoice", Topic::Negative),
    ("tracking", Topic::Negative),
    ("ref", Topic::Negative),
    ("reference", Topic::Negative),
    ("isbn", Topic::Negative),
    ("ticket", Topic::Negative),
    ("serial", Topic::Negative),
    ("sku", Topic::Negative),
    ("part number", Topic::Negative),
    ("transaction", Topic::Negative),
    ("shipment", Topic::Negative),
    ("parcel", Topic::Negative),
    ("bestellnummer", Topic::Negative),
    ("bestellung", Topic::Negative),
    ("rechnung", Topic::Negative),
    ("rechnungsnummer", Topic::Negative),
    ("sendungsnummer", Topic::Negative),
    ("commande", Topic::Negative),
    ("facture", Topic::Negative),
    ("pedido", Topic::Negative),
    ("factura", Topic::Negative),
    ("ordine", Topic::Negative),
    ("fattura", Topic::Negative),
    // versions
    ("version", Topic::Version),
    ("ver", Topic::Version),
    ("release", Topic::Version),
    ("build", Topic::Version),
    ("changelog", Topic::Version),
    ("upgrade", Topic::Version),
    ("versión", Topic::Version),
    ("versione", Topic::Version),
    // nationality cues for documents that share a shape
    ("us", Topic::CueUs),
    ("u.s.", Topic::CueUs),
    ("usa", Topic::CueUs),
    ("american", Topic::CueUs),
    ("united states", Topic::CueUs),
    ("uk", Topic::CueUk),
    ("british", Topic::CueUk),
    ("hm passport", Topic::CueUk),
    ("united kingdom", Topic::CueUk),
    ("german", Topic::CueDe),
    ("deutsch", Topic::CueDe),
    ("deutscher", Topic::CueDe),
    ("deutsche", Topic::CueDe),
    ("reisepass", Topic::CueDe),
    ("italian", Topic::CueIt),
    ("italiana", Topic::CueIt),
    ("patente", Topic::CueIt),
    ("indian", Topic::CueIn),
    ("india", Topic::CueIn),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_line_up_with_entities() {
        for (i, e) in Entity::ALL.iter().enumerate() {
            assert_eq!(*e as usize, i);
            assert_eq!(e.rule().id, format!("PII{:04}", i + 1));
        }
        for (w, _) in CONTEXT_WORDS {
            assert_eq!(*w, w.to_lowercase(), "context words are lower case");
        }
    }
}
