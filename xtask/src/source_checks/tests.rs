use std::{fs, path::PathBuf};

use super::{MAX_LINES, cycles, long_files, members, run, scan::scan, strongly_connected, units};

fn path(text: &str) -> Vec<String> {
    text.split("::")
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The absolute targets `src` refers to from module `module`.
fn targets(src: &str, module: &str) -> Vec<String> {
    scan(src, &path(module))
        .refs
        .iter()
        .map(|r| r.target.join("::"))
        .collect()
}

#[test]
fn nested_use_trees_expand_to_every_leaf() {
    let src = "use crate::{a::{b, c::{D, self}}, e as f, g::*};\n\
               pub(crate) use super::{self as s, h::I};\n\
               use ::std::io; use std::fmt;";
    assert_eq!(
        targets(src, "x::y"),
        [
            "a::b",
            "a::c::D",
            "a::c",
            "e",
            "g",
            "x",
            "x::h::I",
            "x::y::std::fmt"
        ]
        .map(String::from)
    );
    let refs = scan(src, &path("x::y")).refs;
    assert_eq!(refs[3].written, "crate::e");
    assert_eq!(refs[2].written, "crate::a::c");
    // `std::fmt` is relative: a reference only if `x::y::std` were a module.
    assert!(refs[7].relative && refs[7].base_len == 2);
    assert!(!refs[0].relative);
}

#[test]
fn use_lines_are_those_of_the_leaves() {
    let src = "use crate::{\n    a::B,\n    c::{\n        D,\n    },\n};\n";
    let lines: Vec<usize> = scan(src, &[]).refs.iter().map(|r| r.line).collect();
    assert_eq!(lines, [2, 4]);
}

#[test]
fn super_inside_inline_modules_counts_them() {
    let src = "pub struct Unsupported;\n\
               #[cfg(target_os = \"linux\")]\n\
               mod imp {\n\
                   use super::Unsupported;\n\
                   fn f() { if true { super::super::wire::Frame::new(); } }\n\
                   pub mod deeper { use super::super::Unsupported; use self::x::Y; }\n\
               }\n\
               fn g() -> Result<(), self::Unsupported> { super::other::h() }";
    assert_eq!(
        targets(src, "stream::zerocopy"),
        [
            "stream::zerocopy::Unsupported",
            "stream::wire::Frame::new",
            "stream::zerocopy::Unsupported",
            "stream::zerocopy::imp::deeper::x::Y",
            "stream::zerocopy::Unsupported",
            "stream::other::h",
        ]
        .map(String::from)
    );
}

#[test]
fn comments_doc_links_and_strings_are_not_imports() {
    let src = r###"//! See [`crate::a::A`] and [super::b].
/// Calls [`crate::c::C`]; /* crate::d::D */
/* outer /* nested crate::e */ still a comment crate::f */
fn f<'a>(x: &'a str) -> char {
    let _ = "crate::g::G \" crate::h";
    let _ = r#"crate::i "quoted" crate::j"#;
    let _ = b"crate::k";
    let _ = br##"crate::l"##;
    let _ = (b'"', '"', '\'', '\u{22}');
    crate::real::f(x);
    crate::r#type::Kind::r#as
}"###;
    assert_eq!(targets(src, "m"), ["real::f", "type::Kind::as"]);
}

#[test]
fn test_modules_and_visibility_paths_are_skipped() {
    let src = "#[cfg(test)]\nmod tests { use super::*; use crate::a::B; }\n\
               #[cfg(all(test, unix))]\n#[allow(dead_code)]\nmod more { use crate::b::C; }\n\
               #[cfg(not(test))]\nmod live { use crate::c::D; }\n\
               #[cfg(any(test, feature = \"x\"))]\nmod maybe { use crate::d::E; }\n\
               pub(in crate::e) fn f() {}\n\
               #[cfg(test)]\npub(crate) mod t;\n\
               mod not_test;";
    let found = scan(src, &path("x"));
    let targets: Vec<String> = found.refs.iter().map(|r| r.target.join("::")).collect();
    assert_eq!(targets, ["c::D", "d::E"]);
    assert_eq!(found.test_modules, [path("x::t")]);
    assert!(scan("#![cfg(test)]\nuse crate::a::B;", &[]).refs.is_empty());
}

#[test]
fn tarjan_finds_only_real_cycles() {
    // 0 -> 1 -> 2 -> 0, 3 -> 4 -> 3, 5 -> 0, 6 alone
    let graph = vec![vec![1], vec![2], vec![0], vec![4], vec![3], vec![0], vec![]];
    assert_eq!(strongly_connected(&graph), [vec![0, 1, 2], vec![3, 4]]);
    assert!(strongly_connected(&[vec![1], vec![]]).is_empty());
}

/// A throwaway workspace in the temporary folder, removed on drop.
struct Workspace(PathBuf);

impl Workspace {
    fn new(name: &str, files: &[(&str, &str)]) -> Self {
        let root =
            std::env::temp_dir().join(format!("xtask-source-checks-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        for (file, text) in files {
            let file = root.join(file);
            fs::create_dir_all(file.parent().unwrap()).unwrap();
            fs::write(file, text).unwrap();
        }
        Self(root)
    }
}

impl Drop for Workspace {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

const MANIFEST: &str = "[workspace]\nmembers = [\n    \"one\", # the crate\n    \"two\",\n]\n";

#[test]
fn a_two_file_cycle_is_reported_with_its_imports() {
    let ws = Workspace::new(
        "cycle",
        &[
            ("Cargo.toml", MANIFEST),
            ("one/src/lib.rs", "mod a;\nmod b;\nmod c;\nuse a::A;\n"),
            ("one/src/a.rs", "use crate::b::B;\npub struct A;\n"),
            (
                "one/src/b/mod.rs",
                "mod inner;\npub fn f(_: super::a::A) {}\n",
            ),
            ("one/src/b/inner.rs", "use super::f;\n"),
            (
                "one/src/c.rs",
                "use crate::a::A;\n#[cfg(test)]\nmod tests;\n",
            ),
            ("one/src/c/tests.rs", "use super::super::c::*;\n"),
            ("one/src/bin/tool.rs", "mod a;\nuse crate::a::X;\n"),
            ("one/src/bin/tool/a.rs", "use crate::X;\n"),
            ("two/src/main.rs", "fn main() {}\n"),
        ],
    );
    let root = &ws.0;
    assert_eq!(members(root).unwrap(), ["one", "two"]);
    let units = units(&root.join("one")).unwrap();
    assert_eq!(units.len(), 2, "the library and the src/bin program");
    let modules: Vec<String> = units[0].iter().map(|(_, m)| m.join("::")).collect();
    assert_eq!(modules, ["a", "b::inner", "b", "c::tests", "c", ""]);
    let found = cycles(root, &units[0]).unwrap();
    assert_eq!(
        found,
        ["import cycle between 2 files:\n  \
          one/src/a.rs:1 uses crate::b::B (one/src/b/mod.rs)\n  \
          one/src/b/mod.rs:2 uses super::a::A (one/src/a.rs)\n"]
    );
    assert!(cycles(root, &units[1]).unwrap().is_empty());
    assert!(run(root).is_err());
}

#[test]
fn long_files_outside_tests_are_reported() {
    let long = "//\n".repeat(MAX_LINES + 1);
    let ok = "//\n".repeat(MAX_LINES - 1) + "// no final newline";
    let ws = Workspace::new(
        "sizes",
        &[
            ("Cargo.toml", MANIFEST),
            ("one/src/lib.rs", &ok),
            ("one/src/big.rs", &long),
            ("one/tests/big.rs", &long),
            ("one/src/tests/big.rs", &long),
            ("target/debug/big.rs", &long),
            ("web/node_modules/big.rs", &long),
        ],
    );
    let expected = [(
        format!("one{}src{0}big.rs", std::path::MAIN_SEPARATOR),
        MAX_LINES + 1,
    )];
    assert_eq!(long_files(&ws.0).unwrap(), expected);
    assert!(run(&ws.0).is_err());
    fs::remove_file(ws.0.join("one/src/big.rs")).unwrap();
    assert!(run(&ws.0).is_ok());
}
