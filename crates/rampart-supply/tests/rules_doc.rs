//! Every rule the scanner can raise is documented in docs/model-scan.md with its severity.

use std::path::Path;

#[test]
fn every_rule_is_documented_with_its_severity() {
    let doc = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/model-scan.md"),
    )
    .expect("docs/model-scan.md");
    for r in rampart_supply::rules::RULES {
        let row = doc
            .lines()
            .find(|l| l.starts_with(&format!("| `{}` |", r.id)))
            .unwrap_or_else(|| panic!("{} is not in the rules table", r.id));
        assert!(
            row.contains(r.severity.name()),
            "{}: severity {} not in {row}",
            r.id,
            r.severity.name()
        );
    }
}
