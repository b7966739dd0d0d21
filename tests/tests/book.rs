//! The real project passes every check.

use std::path::Path;

#[test]
fn the_book_and_the_labs_agree() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let problems = book_tests::check_project(root);
    let report: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
    assert!(
        problems.is_empty(),
        "{} problem(s):\n{}",
        problems.len(),
        report.join("\n")
    );
}
