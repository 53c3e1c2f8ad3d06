//! Check-digit algorithms and structural checks for the identifiers the PII scanner reports.
//!
//! Each function takes the bare characters of a candidate (separators already removed) and answers whether
//! it could be a real identifier. They never allocate and never panic: inputs of the wrong length or
//! alphabet simply fail.

use sha2::{Digest, Sha256};

/// Luhn (mod 10) check over ASCII digits, as used by payment cards.
pub fn luhn(digits: &[u8]) -> bool {
    if digits.len() < 2 || !digits.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 1 {
                let x = d * 2;
                if x > 9 { x - 9 } else { x }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// Payment card networks recognised by their issuer identification number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CardBrand {
    /// Visa.
    Visa,
    /// Mastercard, including the 2221-2720 range.
    Mastercard,
    /// American Express.
    Amex,
    /// Discover.
    Discover,
    /// Diners Club.
    Diners,
    /// JCB.
    Jcb,
    /// UnionPay.
    UnionPay,
    /// Maestro.
    Maestro,
}

impl CardBrand {
    /// Name as printed on cards.
    pub fn name(self) -> &'static str {
        match self {
            CardBrand::Visa => "Visa",
            CardBrand::Mastercard => "Mastercard",
            CardBrand::Amex => "American Express",
            CardBrand::Discover => "Discover",
            CardBrand::Diners => "Diners Club",
            CardBrand::Jcb => "JCB",
            CardBrand::UnionPay => "UnionPay",
            CardBrand::Maestro => "Maestro",
        }
    }
}

fn prefix_num(digits: &[u8], n: usize) -> u32 {
    digits
        .iter()
        .take(n)
        .fold(0, |acc, &b| acc * 10 + u32::from(b.wrapping_sub(b'0') % 10))
}

/// The card network whose issuer range and length fit `digits`, if any.
pub fn card_brand(digits: &[u8]) -> Option<CardBrand> {
    let len = digits.len();
    if !(12..=19).contains(&len) {
        return None;
    }
    let p1 = prefix_num(digits, 1);
    let p2 = prefix_num(digits, 2);
    let p3 = prefix_num(digits, 3);
    let p4 = prefix_num(digits, 4);
    let p6 = prefix_num(digits, 6);
    let brand = if p1 == 4 && matches!(len, 13 | 16 | 19) {
        CardBrand::Visa
    } else if ((51..=55).contains(&p2) || (2221..=2720).contains(&p4)) && len == 16 {
        CardBrand::Mastercard
    } else if (p2 == 34 || p2 == 37) && len == 15 {
        CardBrand::Amex
    } else if (p4 == 6011
        || (644..=649).contains(&p3)
        || p2 == 65
        || (622_126..=622_925).contains(&p6))
        && (16..=19).contains(&len)
    {
        CardBrand::Discover
    } else if ((300..=305).contains(&p3) || p2 == 36 || p2 == 38 || p2 == 39)
        && (14..=19).contains(&len)
    {
        CardBrand::Diners
    } else if (3528..=3589).contains(&p4) && (16..=19).contains(&len) {
        CardBrand::Jcb
    } else if p2 == 62 && (16..=19).contains(&len) {
        CardBrand::UnionPay
    } else if (p2 == 50
        || (56..=58).contains(&p2)
        || p4 == 6304
        || p4 == 6759
        || (6761..=6763).contains(&p4))
        && (12..=19).contains(&len)
    {
        CardBrand::Maestro
    } else {
        return None;
    };
    Some(brand)
}

/// IBAN length per ISO 3166 country code, from the IBAN registry.
const IBAN_LENGTHS: &[(&[u8; 2], usize)] = &[
    (b"AD", 24),
    (b"AE", 23),
    (b"AL", 28),
    (b"AT", 20),
    (b"AZ", 28),
    (b"BA", 20),
    (b"BE", 16),
    (b"BG", 22),
    (b"BH", 22),
    (b"BI", 27),
    (b"BR", 29),
    (b"BY", 28),
    (b"CH", 21),
    (b"CR", 22),
    (b"CY", 28),
    (b"CZ", 24),
    (b"DE", 22),
    (b"DJ", 27),
    (b"DK", 18),
    (b"DO", 28),
    (b"EE", 20),
    (b"EG", 29),
    (b"ES", 24),
    (b"FI", 18),
    (b"FK", 18),
    (b"FO", 18),
    (b"FR", 27),
    (b"GB", 22),
    (b"GE", 22),
    (b"GI", 23),
    (b"GL", 18),
    (b"GR", 27),
    (b"GT", 28),
    (b"HR", 21),
    (b"HU", 28),
    (b"IE", 22),
    (b"IL", 23),
    (b"IQ", 23),
    (b"IS", 26),
    (b"IT", 27),
    (b"JO", 30),
    (b"KW", 30),
    (b"KZ", 20),
    (b"LB", 28),
    (b"LC", 32),
    (b"LI", 21),
    (b"LT", 20),
    (b"LU", 20),
    (b"LV", 21),
    (b"LY", 25),
    (b"MC", 27),
    (b"MD", 24),
    (b"ME", 22),
    (b"MK", 19),
    (b"MN", 20),
    (b"MR", 27),
    (b"MT", 31),
    (b"MU", 30),
    (b"NI", 28),
    (b"NL", 18),
    (b"NO", 15),
    (b"OM", 23),
    (b"PK", 24),
    (b"PL", 28),
    (b"PS", 29),
    (b"PT", 25),
    (b"QA", 29),
    (b"RO", 24),
    (b"RS", 22),
    (b"RU", 33),
    (b"SA", 24),
    (b"SC", 31),
    (b"SD", 18),
    (b"SE", 24),
    (b"SI", 19),
    (b"SK", 24),
    (b"SM", 27),
    (b"SO", 23),
    (b"ST", 25),
    (b"SV", 28),
    (b"TL", 23),
    (b"TN", 24),
    (b"TR", 26),
    (b"UA", 29),
    (b"VA", 22),
    (b"VG", 24),
    (b"XK", 20),
    (b"YE", 30),
];

/// Expected IBAN length for a two-letter country code.
pub fn iban_length(country: &[u8]) -> Option<usize> {
    IBAN_LENGTHS
        .iter()
        .find(|(c, _)| c.as_slice() == country)
        .map(|&(_, n)| n)
}

/// Value of an alphanumeric character in the mod-97 and 7-3-1 schemes: digits as is, `A` = 10 ... `Z` = 35.
fn alnum_value(b: u8) -> Option<u32> {
    match b {
        b'0'..=b'9' => Some(u32::from(b - b'0')),
        b'A'..=b'Z' => Some(u32::from(b - b'A') + 10),
        _ => None,
    }
}

/// ISO 13616 IBAN check: known country, exact length, and the rearranged number is 1 mod 97.
pub fn iban(compact: &[u8]) -> bool {
    let Some(len) = compact.get(..2).and_then(iban_length) else {
        return false;
    };
    if compact.len() != len || !compact[2..4].iter().all(u8::is_ascii_digit) {
        return false;
    }
    let mut rem: u32 = 0;
    for &b in compact[4..].iter().chain(&compact[..4]) {
        let Some(v) = alnum_value(b) else {
            return false;
        };
        rem = if v < 10 {
            (rem * 10 + v) % 97
        } else {
            (rem * 100 + v) % 97
        };
    }
    rem == 1
}

/// Verhoeff check over ASCII digits (Aadhaar's last digit).
pub fn verhoeff(digits: &[u8]) -> bool {
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let mut c = 0usize;
    for (i, &b) in digits.iter().rev().enumerate() {
        c = VERHOEFF_D[c][VERHOEFF_P[i % 8][usize::from(b - b'0')]];
    }
    c == 0
}

/// The Verhoeff check digit to append to `digits`.
#[cfg(test)]
pub fn verhoeff_check_digit(digits: &[u8]) -> Option<u8> {
    if !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut c = 0usize;
    for (i, &b) in digits.iter().rev().enumerate() {
        c = VERHOEFF_D[c][VERHOEFF_P[(i + 1) % 8][usize::from(b - b'0')]];
    }
    Some(b'0' + VERHOEFF_INV[c])
}

// Multiplication table of the dihedral group D5, its permutation table and inverses (Verhoeff 1969).
const VERHOEFF_D: [[usize; 10]; 10] = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    [1, 2, 3, 4, 0, 6, 7, 8, 9, 5],
    [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
    [3, 4, 0, 1, 2, 8, 9, 5, 6, 7],
    [4, 0, 1, 2, 3, 9, 5, 6, 7, 8],
    [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
    [6, 5, 9, 8, 7, 1, 0, 4, 3, 2],
    [7, 6, 5, 9, 8, 2, 1, 0, 4, 3],
    [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
    [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
];
const VERHOEFF_P: [[usize; 10]; 8] = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    [1, 5, 7, 6, 2, 8, 3, 0, 9, 4],
    [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
    [8, 9, 1, 6, 0, 4, 3, 5, 2, 7],
    [9, 4, 5, 3, 1, 2, 6, 8, 7, 0],
    [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
    [2, 7, 9, 3, 8, 0, 6, 4, 1, 5],
    [7, 0, 4, 6, 9, 1, 3, 2, 5, 8],
];
#[cfg(test)]
const VERHOEFF_INV: [u8; 10] = [0, 4, 3, 2, 1, 5, 6, 7, 8, 9];

/// Aadhaar: 12 digits, not starting with 0 or 1, Verhoeff-valid.
pub fn aadhaar(digits: &[u8]) -> bool {
    digits.len() == 12 && digits[0] >= b'2' && verhoeff(digits)
}

/// NHS number: 10 digits whose last is the mod-11 check of the first nine (weights 10 down to 2).
pub fn nhs(digits: &[u8]) -> bool {
    if digits.len() != 10 || !digits.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let sum: u32 = digits[..9]
        .iter()
        .zip((2..=10).rev())
        .map(|(&b, w)| u32::from(b - b'0') * w)
        .sum();
    let check = match 11 - sum % 11 {
        11 => 0,
        10 => return false,
        c => c,
    };
    check == u32::from(digits[9] - b'0')
}

/// German tax identification number (Steuer-IdNr): 11 digits, no leading zero, exactly one digit repeated
/// (twice, or three times but not three in a row) in the first ten, and an ISO 7064 MOD 11,10 check digit.
pub fn de_tax_id(digits: &[u8]) -> bool {
    if digits.len() != 11 || digits[0] == b'0' || !digits.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let mut counts = [0u8; 10];
    for &b in &digits[..10] {
        counts[usize::from(b - b'0')] += 1;
    }
    let mut multi = 0;
    for &c in &counts {
        match c {
            0 | 1 => {}
            2 | 3 => multi += 1,
            _ => return false,
        }
    }
    if multi != 1 {
        return false;
    }
    if digits[..10]
        .windows(3)
        .any(|w| w[0] == w[1] && w[1] == w[2])
    {
        return false;
    }
    iso7064_mod11_10_check(&digits[..10]) == Some(digits[10])
}

/// ISO 7064 MOD 11,10 check digit for ASCII digits.
pub fn iso7064_mod11_10_check(digits: &[u8]) -> Option<u8> {
    let mut product = 10u32;
    for &b in digits {
        if !b.is_ascii_digit() {
            return None;
        }
        let mut sum = (u32::from(b - b'0') + product) % 10;
        if sum == 0 {
            sum = 10;
        }
        product = (sum * 2) % 11;
    }
    let check = (11 - product) % 10;
    Some(b'0' + check as u8)
}

/// The 7-3-1 weighted check digit used by German identity documents, over digits and `A`-`Z`.
pub fn check_731(chars: &[u8]) -> Option<u8> {
    let mut sum = 0u32;
    for (&b, w) in chars.iter().zip([7u32, 3, 1].iter().cycle()) {
        sum += alnum_value(b)? * w;
    }
    Some(b'0' + (sum % 10) as u8)
}

/// Characters allowed in German ID card and passport serial numbers (no vowels, no look-alikes).
pub fn is_de_document_char(b: u8) -> bool {
    b.is_ascii_digit() || b"CFGHJKLMNPRTVWXYZ".contains(&b)
}

/// German identity card number with its check digit: 9 serial characters (first a letter) then 7-3-1 check.
pub fn de_id_card(chars: &[u8]) -> bool {
    chars.len() == 10
        && chars[0].is_ascii_uppercase()
        && chars[..9].iter().all(|&b| is_de_document_char(b))
        && check_731(&chars[..9]) == Some(chars[9])
}

/// French social security number (NIR): 15 characters, sex digit, month, department (with Corsican
/// `2A`/`2B`), and a two-digit key equal to 97 minus the 13-digit number mod 97.
pub fn fr_nir(chars: &[u8]) -> bool {
    if chars.len() != 15 {
        return false;
    }
    if !matches!(chars[0], b'1' | b'2' | b'3' | b'4' | b'7' | b'8') {
        return false;
    }
    let month = prefix_num(&chars[3..], 2);
    if !chars[3..5].iter().all(u8::is_ascii_digit)
        || !((1..=12).contains(&month) || (20..=42).contains(&month) || (50..=99).contains(&month))
    {
        return false;
    }
    // Corsican departments replace "20": 2A counts as 19 and 2B as 18 when computing the key.
    let corsica = match (chars[5], chars[6]) {
        (b'2', b'A') => Some(19u64),
        (b'2', b'B') => Some(18u64),
        _ => None,
    };
    let mut n: u64 = 0;
    for (i, &b) in chars[..13].iter().enumerate() {
        let d = match (corsica, i) {
            (Some(dep), 5) => dep / 10,
            (Some(dep), 6) => dep % 10,
            _ if b.is_ascii_digit() => u64::from(b - b'0'),
            _ => return false,
        };
        n = n * 10 + d;
    }
    if !chars[13..].iter().all(u8::is_ascii_digit) {
        return false;
    }
    let key = u64::from(chars[13] - b'0') * 10 + u64::from(chars[14] - b'0');
    key == 97 - n % 97
}

const DNI_LETTERS: &[u8; 23] = b"TRWAGMYFPDXBNJZSQVHLCKE";

/// Spanish DNI/NIF: 8 digits and the control letter `TRWAGMYFPDXBNJZSQVHLCKE[n mod 23]`.
pub fn es_nif(chars: &[u8]) -> bool {
    chars.len() == 9
        && chars[..8].iter().all(u8::is_ascii_digit)
        && dni_letter(&chars[..8]) == Some(chars[8])
}

/// Spanish NIE: `X`/`Y`/`Z` (standing for 0/1/2), 7 digits and the DNI control letter.
pub fn es_nie(chars: &[u8]) -> bool {
    if chars.len() != 9 || !chars[1..8].iter().all(u8::is_ascii_digit) {
        return false;
    }
    let lead = match chars[0] {
        b'X' => 0,
        b'Y' => 1,
        b'Z' => 2,
        _ => return false,
    };
    let n = chars[1..8]
        .iter()
        .fold(lead, |acc, &b| acc * 10 + u32::from(b - b'0'));
    DNI_LETTERS.get((n % 23) as usize) == Some(&chars[8])
}

fn dni_letter(digits: &[u8]) -> Option<u8> {
    let n = digits.iter().try_fold(0u32, |acc, &b| {
        b.is_ascii_digit().then(|| acc * 10 + u32::from(b - b'0'))
    })?;
    DNI_LETTERS.get((n % 23) as usize).copied()
}

// Values of characters in odd (1st, 3rd, ...) positions of the codice fiscale; digits share the letters' row.
const CF_ODD: [u32; 26] = [
    1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23,
];

/// The check character of the first 15 characters of an Italian codice fiscale.
pub fn it_fiscal_check(chars: &[u8]) -> Option<u8> {
    if chars.len() != 15 {
        return None;
    }
    let mut sum = 0u32;
    for (i, &b) in chars.iter().enumerate() {
        let idx = match b {
            b'0'..=b'9' => usize::from(b - b'0'),
            b'A'..=b'Z' => usize::from(b - b'A'),
            _ => return None,
        };
        sum += if i % 2 == 0 { CF_ODD[idx] } else { idx as u32 };
    }
    Some(b'A' + (sum % 26) as u8)
}

/// Italian codice fiscale: surname/name letters, birth date (with omocodia letters allowed for digits),
/// month letter, day 1-31 or 41-71, place code, and the check character.
pub fn it_fiscal_code(chars: &[u8]) -> bool {
    if chars.len() != 16 || !chars[..6].iter().all(u8::is_ascii_uppercase) {
        return false;
    }
    // Omocodia replaces digits by these letters, in order 0-9, to keep codes unique.
    let digit = |b: u8| -> Option<u32> {
        match b {
            b'0'..=b'9' => Some(u32::from(b - b'0')),
            _ => b"LMNPQRSTUV".iter().position(|&l| l == b).map(|p| p as u32),
        }
    };
    let numeric = [6, 7, 9, 10, 12, 13, 14];
    if numeric.iter().any(|&i| digit(chars[i]).is_none()) {
        return false;
    }
    if !b"ABCDEHLMPRST".contains(&chars[8]) || !chars[11].is_ascii_uppercase() {
        return false;
    }
    let day = digit(chars[9]).unwrap_or(99) * 10 + digit(chars[10]).unwrap_or(99);
    if !((1..=31).contains(&day) || (41..=71).contains(&day)) {
        return false;
    }
    it_fiscal_check(&chars[..15]) == Some(chars[15])
}

/// US Social Security number rules: area not 000, 666 or 900-999; group not 00; serial not 0000; and not one
/// of the numbers published in advertising or reserved for it.
pub fn us_ssn(digits: &[u8]) -> bool {
    if digits.len() != 9 || !digits.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let area = prefix_num(digits, 3);
    let group = prefix_num(&digits[3..], 2);
    let serial = prefix_num(&digits[5..], 4);
    if area == 0 || area == 666 || area >= 900 || group == 0 || serial == 0 {
        return false;
    }
    if digits.iter().all(|&b| b == digits[0]) {
        return false;
    }
    let whole = prefix_num(digits, 9);
    // Woolworth wallet card, and numbers printed in SSA and commercial advertising.
    const PUBLISHED: [u32; 4] = [78_051_120, 219_099_999, 457_555_462, 123_456_789];
    if PUBLISHED.contains(&whole) || (987_654_320..=987_654_329).contains(&whole) {
        return false;
    }
    true
}

/// UK National Insurance number prefix and suffix rules (`AB123456C`).
pub fn uk_nino(chars: &[u8]) -> bool {
    if chars.len() != 9 || !chars[2..8].iter().all(u8::is_ascii_digit) {
        return false;
    }
    let (a, b) = (chars[0], chars[1]);
    if !a.is_ascii_uppercase()
        || !b.is_ascii_uppercase()
        || b"DFIQUV".contains(&a)
        || b"DFIOQUV".contains(&b)
    {
        return false;
    }
    const BANNED: [&[u8; 2]; 7] = [b"BG", b"GB", b"KN", b"NK", b"NT", b"TN", b"ZZ"];
    if BANNED.iter().any(|p| p.as_slice() == &chars[..2]) {
        return false;
    }
    matches!(chars[8], b'A'..=b'D')
}

/// Indian PAN shape: five letters (the fourth naming the holder type), four digits, one letter.
pub fn in_pan(chars: &[u8]) -> bool {
    chars.len() == 10
        && chars[..5].iter().all(u8::is_ascii_uppercase)
        && chars[5..9].iter().all(u8::is_ascii_digit)
        && chars[9].is_ascii_uppercase()
        && b"ABCFGHJLPT".contains(&chars[3])
}

/// ISO 3166-1 alpha-2 codes (officially assigned), for BIC country checks.
const ISO_COUNTRIES: &str = "ADAEAFAGAIALAMAOAQARASATAUAWAXAZBABBBDBEBFBGBHBIBJBLBMBNBOBQBRBSBTBVBWBYBZCACCCDCFCGCHCICKCLCMCNCOCRCUCVCWCXCYCZDEDJDKDMDODZECEEEGEHERESETFIFJFKFMFOFRGAGBGDGEGFGGGHGIGLGMGNGPGQGRGSGTGUGWGYHKHMHNHRHTHUIDIEILIMINIOIQIRISITJEJMJOJPKEKGKHKIKMKNKPKRKWKYKZLALBLCLILKLRLSLTLULVLYMAMCMDMEMFMGMHMKMLMMMNMOMPMQMRMSMTMUMVMWMXMYMZNANCNENFNGNINLNONPNRNUNZOMPAPEPFPGPHPKPLPMPNPRPSPTPWPYQARERORSRURWSASBSCSDSESGSHSISJSKSLSMSNSOSRSSSTSVSXSYSZTCTDTFTGTHTJTKTLTMTNTOTRTTTVTWTZUAUGUMUSUYUZVAVCVEVGVIVNVUWFWSXKYEYTZAZMZW";

/// True for an assigned ISO 3166-1 alpha-2 code (plus `XK`, used by banks for Kosovo).
pub fn is_country_code(code: &[u8]) -> bool {
    code.len() == 2 && ISO_COUNTRIES.as_bytes().chunks_exact(2).any(|c| c == code)
}

/// BIC shape: 4-letter bank, valid country, 2-character location, optional 3-character branch.
pub fn swift_shape(chars: &[u8]) -> bool {
    (chars.len() == 8 || chars.len() == 11)
        && chars[..6].iter().all(u8::is_ascii_uppercase)
        && chars[6..]
            .iter()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        && is_country_code(&chars[4..6])
}

/// Bitcoin base58check address (P2PKH `1...` or P2SH `3...`) with a valid double-SHA-256 checksum.
pub fn btc_base58(s: &str) -> bool {
    let mut buf = [0u8; 25];
    match bs58::decode(s).onto(&mut buf) {
        Ok(25) => {}
        _ => return false,
    }
    if buf[0] != 0x00 && buf[0] != 0x05 {
        return false;
    }
    let first = Sha256::digest(&buf[..21]);
    let second = Sha256::digest(first);
    second[..4] == buf[21..]
}

const BECH32_CHARSET: &[u8; 32] = b"qpzry9x8gf2tvdw0s3jn54khce6mua7l";

/// Segwit address in bech32 (witness v0) or bech32m (v1+) with a valid checksum and program length.
pub fn btc_bech32(s: &str) -> bool {
    let bytes = s.as_bytes();
    if bytes.len() < 14 || bytes.len() > 90 {
        return false;
    }
    let has_lower = bytes.iter().any(u8::is_ascii_lowercase);
    let has_upper = bytes.iter().any(u8::is_ascii_uppercase);
    if has_lower && has_upper {
        return false;
    }
    let Some(sep) = bytes.iter().rposition(|&b| b == b'1') else {
        return false;
    };
    let hrp = &bytes[..sep];
    if !(hrp.eq_ignore_ascii_case(b"bc") || hrp.eq_ignore_ascii_case(b"tb")) {
        return false;
    }
    let mut data = [0u8; 90];
    let payload = &bytes[sep + 1..];
    if payload.len() < 7 {
        return false;
    }
    for (slot, &b) in data.iter_mut().zip(payload) {
        let lower = b.to_ascii_lowercase();
        let Some(v) = BECH32_CHARSET.iter().position(|&c| c == lower) else {
            return false;
        };
        *slot = v as u8;
    }
    let data = &data[..payload.len()];
    let hrp_lower = |b: &u8| b.to_ascii_lowercase();
    let expanded = hrp
        .iter()
        .map(|b| hrp_lower(b) >> 5)
        .chain(std::iter::once(0))
        .chain(hrp.iter().map(|b| hrp_lower(b) & 31))
        .chain(data.iter().copied());
    let constant = crate::util::bech32_polymod(expanded);
    let version = data[0];
    let program_groups = data.len() - 7;
    let program_bytes = program_groups * 5 / 8;
    // Leftover bits of the 5-to-8 regrouping must be fewer than 5 (and are assumed zero).
    if (program_groups * 5) % 8 >= 5 {
        return false;
    }
    match version {
        0 => constant == 1 && (program_bytes == 20 || program_bytes == 32),
        1..=16 => constant == 0x2bc8_30a3 && (2..=40).contains(&program_bytes),
        _ => false,
    }
}

/// A calendar date that a person could have been born on: month 1-12, day valid for the month, year
/// 1900-2099.
pub fn plausible_date(year: u32, month: u32, day: u32) -> bool {
    if !(1900..=2099).contains(&year) || !(1..=12).contains(&month) || day == 0 {
        return false;
    }
    let leap = (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400);
    let days = match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    day <= days
}

/// ISBN-10 or ISBN-13 check, to tell book numbers from phone numbers.
pub fn isbn(digits: &[u8]) -> bool {
    match digits.len() {
        10 => {
            let sum = digits.iter().enumerate().try_fold(0u32, |acc, (i, &b)| {
                let v = match b {
                    b'0'..=b'9' => u32::from(b - b'0'),
                    b'X' | b'x' if i == 9 => 10,
                    _ => return None,
                };
                Some(acc + v * (10 - i as u32))
            });
            sum.is_some_and(|s| s % 11 == 0)
        }
        13 => {
            if !(digits.starts_with(b"978") || digits.starts_with(b"979"))
                || !digits.iter().all(u8::is_ascii_digit)
            {
                return false;
            }
            let sum: u32 = digits
                .iter()
                .enumerate()
                .map(|(i, &b)| u32::from(b - b'0') * if i % 2 == 0 { 1 } else { 3 })
                .sum();
            sum.is_multiple_of(10)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn luhn_complete(prefix: &[u8]) -> Vec<u8> {
        (b'0'..=b'9')
            .map(|c| {
                let mut v = prefix.to_vec();
                v.push(c);
                v
            })
            .find(|v| luhn(v))
            .unwrap_or_default()
    }

    #[test]
    fn luhn_known_values() {
        assert!(luhn(b"4111111111111111"));
        assert!(luhn(b"79927398713"));
        assert!(!luhn(b"4111111111111112"));
        assert!(!luhn(b"1"));
        assert!(!luhn(b"41111a1111111111"));
    }

    #[test]
    fn card_brands() {
        assert_eq!(card_brand(b"4111111111111111"), Some(CardBrand::Visa));
        assert_eq!(card_brand(b"5555555555554444"), Some(CardBrand::Mastercard));
        assert_eq!(card_brand(b"2221000000000009"), Some(CardBrand::Mastercard));
        assert_eq!(card_brand(b"378282246310005"), Some(CardBrand::Amex));
        assert_eq!(card_brand(b"6011111111111117"), Some(CardBrand::Discover));
        assert_eq!(card_brand(b"30569309025904"), Some(CardBrand::Diners));
        assert_eq!(card_brand(b"3530111333300000"), Some(CardBrand::Jcb));
        assert_eq!(card_brand(b"6200000000000005"), Some(CardBrand::UnionPay));
        assert_eq!(card_brand(b"6759649826438453"), Some(CardBrand::Maestro));
        assert_eq!(card_brand(b"9111111111111111"), None);
        assert_eq!(card_brand(b"41111111111111"), None);
        for n in [
            &b"5555555555554444"[..],
            b"378282246310005",
            b"6011111111111117",
            b"30569309025904",
        ] {
            assert!(luhn(n));
        }
    }

    #[test]
    fn iban_known_values() {
        for s in [
            "DE89370400440532013000",
            "GB82WEST12345698765432",
            "FR1420041010050500013M02606",
            "NL91ABNA0417164300",
            "BE68539007547034",
            "CH9300762011623852957",
        ] {
            assert!(iban(s.as_bytes()), "{s}");
        }
        assert!(!iban(b"DE89370400440532013001"));
        assert!(!iban(b"DE8937040044053201300"));
        assert!(!iban(b"QQ89370400440532013000"));
        assert_eq!(iban_length(b"DE"), Some(22));
    }

    #[test]
    fn verhoeff_known_values() {
        assert!(verhoeff(b"2363"));
        assert_eq!(verhoeff_check_digit(b"236"), Some(b'3'));
        assert!(!verhoeff(b"2364"));
        let mut a = b"23412341234".to_vec();
        a.push(verhoeff_check_digit(&a).unwrap_or(b'x'));
        assert!(aadhaar(&a));
        assert!(!aadhaar(b"123412341234"));
    }

    #[test]
    fn nhs_known_values() {
        assert!(nhs(b"9434765919"));
        assert!(!nhs(b"9434765918"));
        assert!(!nhs(b"943476591"));
    }

    #[test]
    fn de_tax_id_known_values() {
        assert!(de_tax_id(b"86095742719"));
        assert!(!de_tax_id(b"86095742718"));
        // Every digit distinct breaks the repetition rule even with a valid check digit.
        let base = b"1234567890";
        let mut v = base.to_vec();
        v.push(iso7064_mod11_10_check(base).unwrap_or(b'x'));
        assert!(!de_tax_id(&v));
        assert!(!de_tax_id(b"06095742719"));
    }

    #[test]
    fn de_id_card_known_values() {
        assert!(de_id_card(b"T220001293"));
        assert!(de_id_card(b"L01X00T471"));
        assert!(!de_id_card(b"L01X00T472"));
        assert!(!de_id_card(b"A01X00T471"));
    }

    #[test]
    fn fr_nir_known_values() {
        let mk = |body: &str| -> String {
            let mut n: u64 = 0;
            for c in body.chars() {
                n = n * 10 + c.to_digit(10).map_or(0, u64::from);
            }
            format!("{body}{:02}", 97 - n % 97)
        };
        let v = mk("1840976451089");
        assert!(fr_nir(v.as_bytes()), "{v}");
        // 2A counts as 19 when computing the key.
        let corsica = mk("1840919451089").replacen("19", "2A", 1);
        assert_eq!(&corsica[5..7], "2A");
        assert!(fr_nir(corsica.as_bytes()), "{corsica}");
        assert!(!fr_nir(b"184097645108900"));
        assert!(!fr_nir(b"5840976451089XX"));
    }

    #[test]
    fn spanish_ids() {
        assert!(es_nif(b"12345678Z"));
        assert!(!es_nif(b"12345678A"));
        assert!(es_nie(b"X1234567L"));
        assert!(!es_nie(b"X1234567A"));
        assert!(!es_nie(b"A1234567L"));
    }

    #[test]
    fn italian_fiscal_code() {
        assert!(it_fiscal_code(b"RSSMRA85T10A562S"));
        assert!(!it_fiscal_code(b"RSSMRA85T10A562T"));
        assert!(!it_fiscal_code(b"RSSMRA85T99A562S"));
    }

    #[test]
    fn ssn_rules() {
        assert!(us_ssn(b"536221234"));
        for bad in [
            &b"000221234"[..],
            b"666221234",
            b"936221234",
            b"536001234",
            b"536220000",
            b"078051120",
            b"111111111",
        ] {
            assert!(!us_ssn(bad), "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn nino_rules() {
        assert!(uk_nino(b"AB123456C"));
        assert!(!uk_nino(b"GB123456C"));
        assert!(!uk_nino(b"DA123456C"));
        assert!(!uk_nino(b"AB123456E"));
    }

    #[test]
    fn bic_shape_and_pan() {
        assert!(swift_shape(b"DEUTDEFF"));
        assert!(swift_shape(b"NWBKGB2L"));
        assert!(swift_shape(b"COBADEFFXXX"));
        assert!(!swift_shape(b"DEUTQQFF"));
        assert!(in_pan(b"ABCPE1234F"));
        assert!(!in_pan(b"ABCDE1234F"));
    }

    #[test]
    fn bitcoin_addresses() {
        assert!(btc_base58("1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2"));
        assert!(btc_base58("3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy"));
        assert!(!btc_base58("1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN3"));
        assert!(btc_bech32("bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"));
        assert!(btc_bech32("BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4"));
        assert!(btc_bech32(
            "bc1p5d7rjq7g6rdk2yhzks9smlaqtedr4dekq08ge8ztwac72sfr9rusxg3297"
        ));
        assert!(!btc_bech32("bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdr"));
        assert!(!btc_bech32("bc1Qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"));
    }

    #[test]
    fn isbn_and_dates() {
        assert!(isbn(b"9783161484100"));
        assert!(isbn(b"0306406152"));
        assert!(isbn(b"080442957X"));
        assert!(!isbn(b"9783161484101"));
        assert!(plausible_date(2000, 2, 29));
        assert!(!plausible_date(1900, 2, 29));
        assert!(!plausible_date(1990, 13, 1));
    }

    proptest! {
        #[test]
        fn luhn_completed_numbers_pass_and_one_digit_change_fails(
            body in proptest::collection::vec(0u8..10, 12..18), pos in 0usize..19, delta in 1u8..10
        ) {
            let prefix: Vec<u8> = body.iter().map(|d| b'0' + d).collect();
            let mut n = luhn_complete(&prefix);
            prop_assert!(luhn(&n));
            let i = pos % n.len();
            n[i] = b'0' + (n[i] - b'0' + delta) % 10;
            prop_assert!(!luhn(&n));
        }

        #[test]
        fn verhoeff_catches_single_digit_changes(
            body in proptest::collection::vec(0u8..10, 11), pos in 0usize..12, delta in 1u8..10
        ) {
            let mut n: Vec<u8> = body.iter().map(|d| b'0' + d).collect();
            let c = verhoeff_check_digit(&n);
            prop_assert!(c.is_some());
            n.push(c.unwrap_or(b'0'));
            prop_assert!(verhoeff(&n));
            n[pos] = b'0' + (n[pos] - b'0' + delta) % 10;
            prop_assert!(!verhoeff(&n));
        }

        #[test]
        fn iban_catches_single_character_changes(
            body in proptest::collection::vec(0u8..10, 18), pos in 4usize..22, delta in 1u8..10
        ) {
            let bban: Vec<u8> = body.iter().map(|d| b'0' + d).collect();
            // Check digits are 98 minus the rearranged number with "00" mod 97.
            let mut rem = 0u32;
            for &b in bban.iter().chain(b"131400") {
                rem = (rem * 10 + u32::from(b - b'0')) % 97;
            }
            let check = 98 - rem;
            let mut n = format!("DE{check:02}").into_bytes();
            n.extend_from_slice(&bban);
            prop_assert!(iban(&n));
            n[pos] = b'0' + (n[pos] - b'0' + delta) % 10;
            prop_assert!(!iban(&n));
        }

        #[test]
        fn nhs_catches_single_digit_changes(body in proptest::collection::vec(0u8..10, 9), pos in 0usize..9, delta in 1u8..10) {
            let mut n: Vec<u8> = body.iter().map(|d| b'0' + d).collect();
            let sum: u32 = n.iter().zip((2..=10).rev()).map(|(&b, w)| u32::from(b - b'0') * w).sum();
            let check = (11 - sum % 11) % 11;
            prop_assume!(check != 10);
            n.push(b'0' + check as u8);
            prop_assert!(nhs(&n));
            n[pos] = b'0' + (n[pos] - b'0' + delta) % 10;
            prop_assert!(!nhs(&n));
        }

        #[test]
        fn mod11_10_catches_single_digit_changes(body in proptest::collection::vec(0u8..10, 10), pos in 0usize..10, delta in 1u8..10) {
            let mut n: Vec<u8> = body.iter().map(|d| b'0' + d).collect();
            let c = iso7064_mod11_10_check(&n).unwrap_or(b'x');
            n[pos] = b'0' + (n[pos] - b'0' + delta) % 10;
            prop_assert_ne!(iso7064_mod11_10_check(&n), Some(c));
        }

        #[test]
        fn check_731_catches_single_digit_changes(body in proptest::collection::vec(0u8..10, 9), pos in 0usize..9, delta in 1u8..10) {
            let mut n: Vec<u8> = body.iter().map(|d| b'0' + d).collect();
            n[0] = b'L';
            let c = check_731(&n).unwrap_or(b'x');
            prop_assume!(pos > 0);
            n[pos] = b'0' + (n[pos] - b'0' + delta) % 10;
            prop_assert_ne!(check_731(&n), Some(c));
        }

        #[test]
        fn dni_letter_catches_single_digit_changes(n in 0u32..100_000_000, pos in 0usize..8, delta in 1u8..10) {
            let mut v = format!("{n:08}").into_bytes();
            v.push(dni_letter(&v).unwrap_or(b'?'));
            prop_assert!(es_nif(&v));
            v[pos] = b'0' + (v[pos] - b'0' + delta) % 10;
            prop_assert!(!es_nif(&v));
        }

        #[test]
        fn fiscal_code_check_catches_single_changes(
            letters in "[A-Z]{6}", y in 0u32..100, m in 0usize..12, d in 1u32..=28, place in "[A-Z][0-9]{3}",
            pos in 0usize..15
        ) {
            let months = b"ABCDEHLMPRST";
            let body = format!("{letters}{y:02}{}{d:02}{place}", months[m] as char);
            let c = it_fiscal_check(body.as_bytes()).unwrap_or(b'?');
            let mut code = body.clone().into_bytes();
            code.push(c);
            prop_assert!(it_fiscal_code(&code));
            // A letter changed to another letter (or digit to digit) keeps the shape but breaks the check.
            let b = code[pos];
            code[pos] = if b.is_ascii_digit() { b'0' + (b - b'0' + 1) % 10 } else { b'A' + (b - b'A' + 1) % 26 };
            prop_assert_ne!(it_fiscal_check(&code[..15]), Some(c));
        }

        #[test]
        fn nir_key_catches_single_digit_changes(n in 1_000_000_000_000u64..2_999_999_999_999, pos in 7usize..13, delta in 1u64..10) {
            let s = format!("{n:013}{:02}", 97 - n % 97);
            let mut b = s.into_bytes();
            b[3] = b'0';
            b[4] = b'5';
            let body: u64 = b[..13].iter().fold(0, |a, &x| a * 10 + u64::from(x - b'0'));
            let key = format!("{:02}", 97 - body % 97).into_bytes();
            b[13] = key[0];
            b[14] = key[1];
            prop_assert!(fr_nir(&b));
            b[pos] = b'0' + ((u64::from(b[pos] - b'0') + delta) % 10) as u8;
            prop_assert!(!fr_nir(&b));
        }

        #[test]
        fn validators_never_panic(s in "\\PC{0,40}") {
            let b = s.as_bytes();
            let _ = (luhn(b), card_brand(b), iban(b), verhoeff(b), nhs(b), de_tax_id(b), de_id_card(b), fr_nir(b));
            let _ = (es_nif(b), es_nie(b), it_fiscal_code(b), us_ssn(b), uk_nino(b), in_pan(b), swift_shape(b));
            let _ = (btc_base58(&s), btc_bech32(&s), isbn(b), check_731(b), it_fiscal_check(b));
        }
    }
}
