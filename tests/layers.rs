//! rls-core's layers depend one way: model → check → diff → sql (CONTRIBUTING.md, "Rules the
//! code keeps"). A `use crate::...` against that direction fails here, naming the file and
//! the line, before it can grow into a cycle again.

use std::path::{Path, PathBuf};

/// Each layer, by the files and folders of rls-core/src it holds, and the modules it must not
/// name (`crate::<module>`).
const RULES: &[(&[&str], &[&str])] = &[
    (
        &["model", "change.rs", "plan.rs"],
        &["check", "reads", "diff", "sql", "migration"],
    ),
    (
        &["check.rs", "reads.rs"],
        &["diff", "sql", "migration", "plan", "change"],
    ),
    (&["diff"], &["sql", "migration"]),
    (&["sql"], &["check", "reads", "diff"]),
];

/// Quoting is below every layer: it names no module of the crate.
const LEAF: &str = "quote.rs";

fn sources(path: &Path, into: &mut Vec<PathBuf>) {
    if path.is_dir() {
        for entry in std::fs::read_dir(path).expect("a readable folder") {
            sources(&entry.expect("a folder entry").path(), into);
        }
    } else if path.extension().is_some_and(|e| e == "rs") {
        into.push(path.to_path_buf());
    }
}

/// The modules of the crate a line of code names: `crate::diff::...`, `crate::{sql, ...}` is
/// not used in this code base.
fn named_modules(line: &str) -> Vec<&str> {
    let code = line.split("//").next().unwrap_or_default();
    code.match_indices("crate::")
        .map(|(at, prefix)| {
            let rest = &code[at + prefix.len()..];
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            &rest[..end]
        })
        .collect()
}

#[test]
fn rls_core_layers_depend_one_way() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("rls-core/src");
    let mut wrong = Vec::new();
    let mut rules: Vec<(&[&str], Vec<&str>)> = RULES
        .iter()
        .map(|(paths, banned)| (*paths, banned.to_vec()))
        .collect();
    rules.push((&[LEAF], vec![""]));
    for (paths, banned) in rules {
        let mut files = Vec::new();
        for path in paths {
            let path = src.join(path);
            assert!(
                path.exists(),
                "{} is gone: update this test",
                path.display()
            );
            sources(&path, &mut files);
        }
        for file in files {
            let text = std::fs::read_to_string(&file).expect("a readable file");
            for (n, line) in text.lines().enumerate() {
                for module in named_modules(line) {
                    // The leaf may name nothing at all.
                    if banned.contains(&module) || banned == [""] {
                        wrong.push(format!("{}:{}: {}", file.display(), n + 1, line.trim()));
                    }
                }
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "rls-core's layers depend one way, model -> check -> diff -> sql (CONTRIBUTING.md); \
         these lines go the other way:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn the_modules_a_line_names() {
    assert_eq!(
        named_modules("use crate::sql::quote; // crate::diff"),
        ["sql"]
    );
    assert_eq!(
        named_modules("let x = crate::model::f(crate::check::g());"),
        ["model", "check"]
    );
    assert!(named_modules("/// See crate::diff").is_empty());
}
