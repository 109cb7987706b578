//! The README's Rust programs are the doctests of `src/lib.rs` (which `cargo test --doc`
//! compiles), so the code a new user copies from the README compiles.

/// The code of the fenced blocks of `lang` in `text`, lines as written.
fn blocks(text: &str, fence: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current: Option<Vec<&str>> = None;
    for line in text.lines() {
        match current.as_mut() {
            None if line.trim_end() == fence => current = Some(Vec::new()),
            None => {}
            Some(lines) if line.trim_end() == "```" => {
                out.push(lines.join("\n"));
                current = None;
            }
            Some(lines) => lines.push(line),
        }
    }
    out
}

#[test]
fn readme_programs_are_the_compiled_doctests() {
    let readme = include_str!("../README.md");
    let lib: String = include_str!("../src/lib.rs")
        .lines()
        .filter_map(|l| l.strip_prefix("//!"))
        .map(|l| l.strip_prefix(' ').unwrap_or(l))
        .filter(|l| !l.starts_with("# ")) // hidden doctest lines
        .collect::<Vec<_>>()
        .join("\n");
    let doctests = blocks(&lib, "```no_run");
    let programs = blocks(readme, "```rust");
    assert!(
        doctests.len() >= 2,
        "the doctests of src/lib.rs: {doctests:?}"
    );
    assert!(programs.len() >= 2, "the Rust programs of the README");
    for program in &programs {
        assert!(
            doctests.contains(program),
            "a README program that is not a doctest of src/lib.rs:\n{program}"
        );
    }
}
