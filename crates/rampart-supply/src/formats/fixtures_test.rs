//! Runs every fixture under tests/fixtures/formats/ through its format's scan and compares the verdict and
//! rules with `expected.json`, which the fixture script writes beside the files.
