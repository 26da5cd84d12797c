//! The README is the crate's documentation: its complete Rust examples run as doctests. The
//! few blocks marked `rust,ignore` are excerpts from the examples' code (attributes, or the
//! statements of a handler); this test keeps each of them true to that code, which is
//! compiled and tested where it lives.

use std::path::Path;

const README: &str = include_str!("../README.md");

/// Code without whitespace and without the trailing commas rustfmt adds when it wraps.
fn squeezed(code: &str) -> String {
    let code: String = code.split_whitespace().collect();
    code.replace(",)", ")").replace(",]", "]")
}

/// The bodies of the README's code blocks whose fence says `rust,ignore`.
fn ignored_blocks() -> Vec<(usize, String)> {
    let mut blocks = Vec::new();
    let mut open: Option<(usize, String)> = None;
    for (i, line) in README.lines().enumerate() {
        let fence = line.trim_start();
        match &mut open {
            None if fence.starts_with("```rust,ignore") => open = Some((i + 1, String::new())),
            Some((start, body)) if fence.starts_with("```") => {
                blocks.push((*start, std::mem::take(body)));
                open = None;
            }
            Some((_, body)) => {
                body.push_str(line);
                body.push('\n');
            }
            None => {}
        }
    }
    blocks
}

fn rust_sources(dir: &Path, into: &mut Vec<(String, String)>) {
    for entry in std::fs::read_dir(dir).expect("a readable folder") {
        let path = entry.expect("a folder entry").path();
        if path.is_dir() {
            rust_sources(&path, into);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).expect("a readable file");
            into.push((path.display().to_string(), squeezed(&text)));
        }
    }
}

#[test]
fn readme_excerpts_are_in_the_examples() {
    let mut sources = Vec::new();
    rust_sources(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("examples"),
        &mut sources,
    );
    let blocks = ignored_blocks();
    assert!(!blocks.is_empty(), "the README's excerpts were not found");
    for (line, body) in blocks {
        let code = squeezed(&body);
        if !code.starts_with("#[") {
            // Statements: the whole excerpt, as one piece of an example's code.
            assert!(
                sources.iter().any(|(_, text)| text.contains(&code)),
                "README.md line {line}: this excerpt is in no file under examples/ (change the \
                 README's `rust,ignore` block to match the example's code, or make it a \
                 complete example that runs as a doctest)"
            );
            continue;
        }
        // Each attribute of the excerpt on its own: the examples may hold others between them.
        for attribute in code.split("#[").filter(|a| !a.is_empty()) {
            let attribute = format!("#[{attribute}");
            assert!(
                sources.iter().any(|(_, text)| text.contains(&attribute)),
                "README.md line {line}: the excerpt `{attribute}` is in no file under examples/ \
                 (change the README's `rust,ignore` block to match the example's code, or make \
                 it a complete example that runs as a doctest)"
            );
        }
    }
}
