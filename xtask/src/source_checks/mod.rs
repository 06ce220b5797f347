//! `cargo xtask check-source`: two rules about how the code is laid out, checked on every
//! `cargo xtask test` so that they stay true rather than being restored by hand now and then.
//!
//! - **No import cycles between files.** Within a crate, a file that needs another file's
//!   items must not be needed by it in return, directly or through others: a cycle makes the
//!   files one unit that can only be read, tested and split together, and it is usually the
//!   sign of a type living in the wrong file. Edges come from `use` trees and from
//!   `crate::`/`super::`/`self::` paths in code; `#[cfg(test)]` modules, comments (doc links
//!   included) and strings do not count, nor do references to the crate root, which declares
//!   the modules.
//! - **No source file over [`MAX_LINES`] lines** outside `tests/` directories (integration
//!   tests are exempt): a longer file usually holds more than one idea, and is harder to
//!   review and to find one's way in.
//!
//! Both are heuristics on the text ([`scan`] and its [`lex`]er); they do not run the compiler.

mod lex;
mod scan;
#[cfg(test)]
mod tests;

use std::{
    collections::{BTreeMap, BTreeSet, HashMap},
    fmt::Write as _,
    fs,
    path::{Path, PathBuf},
};

use anyhow::{Context, Result, bail};

/// The longest a source file outside `tests/` may be.
pub const MAX_LINES: usize = 500;

/// Runs both checks on the workspace at `root`, printing what they found.
pub fn run(root: &Path) -> Result<()> {
    let mut report = String::new();
    let (mut roots, mut files) = (0, 0);
    for member in members(root)? {
        for unit in units(&root.join(&member))? {
            roots += 1;
            files += unit.len();
            for cycle in cycles(root, &unit)? {
                report.push_str(&cycle);
            }
        }
    }
    let long = long_files(root)?;
    for (path, lines) in &long {
        let _ = writeln!(report, "{path}: {lines} lines (at most {MAX_LINES})");
    }
    if report.is_empty() {
        println!(
            "source layout: {files} files in {roots} crate roots, no import cycles; \
             no file outside tests/ over {MAX_LINES} lines"
        );
        return Ok(());
    }
    print!("{report}");
    bail!("source layout: see above")
}

/// The workspace members, from the root `Cargo.toml`'s `members = [...]`.
fn members(root: &Path) -> Result<Vec<String>> {
    let manifest = fs::read_to_string(root.join("Cargo.toml")).context("reading Cargo.toml")?;
    let text = manifest
        .lines()
        .map(|line| line.split('#').next().unwrap_or_default().trim())
        .skip_while(|line| !line.starts_with("members"))
        .collect::<Vec<_>>()
        .join("\n");
    let list = text
        .find('[')
        .zip(text.find(']'))
        .map(|(open, close)| &text[open + 1..close])
        .context("no `members = [...]` in the root Cargo.toml")?;
    Ok(list
        .split(',')
        .map(|item| item.trim().trim_matches('"'))
        .filter(|item| !item.is_empty())
        .map(str::to_owned)
        .collect())
}

/// The files of one crate root (the library or `main.rs`, or one `src/bin/` program), each with
/// its module path from that root.
type Unit = Vec<(PathBuf, Vec<String>)>;

/// `src/` without `src/bin/`, then one unit per program in `src/bin/`.
fn units(member: &Path) -> Result<Vec<Unit>> {
    let src = member.join("src");
    if !src.is_dir() {
        return Ok(Vec::new());
    }
    let bin = src.join("bin");
    let mut units = vec![modules(&src, &rs_files(&src, &[&bin])?)];
    let mut programs = BTreeSet::new();
    if bin.is_dir() {
        for entry in fs::read_dir(&bin)? {
            let path = entry?.path();
            if path.is_dir() || path.extension().is_some_and(|ext| ext == "rs") {
                programs.insert(path.with_extension(""));
            }
        }
    }
    for program in programs {
        let mut files = rs_files(&program, &[])?;
        let single = program.with_extension("rs");
        if single.is_file() {
            files.insert(0, single);
        }
        units.push(modules(&program, &files));
    }
    Ok(units)
}

/// Module paths of `files` under `dir`: `a/b.rs` and `a/b/mod.rs` are `a::b`; `lib.rs`,
/// `main.rs` and anything outside `dir` (a `src/bin/x.rs` program) are the root.
fn modules(dir: &Path, files: &[PathBuf]) -> Unit {
    files
        .iter()
        .map(|file| {
            let mut parts: Vec<String> = file
                .strip_prefix(dir)
                .map(|rel| {
                    rel.with_extension("")
                        .iter()
                        .map(|part| part.to_string_lossy().into_owned())
                        .collect()
                })
                .unwrap_or_default();
            let root = parts.len() == 1 && matches!(parts[0].as_str(), "lib" | "main");
            if root || parts.last().is_some_and(|last| last == "mod") {
                parts.pop();
            }
            (file.clone(), parts)
        })
        .collect()
}

/// Every `.rs` file under `dir`, sorted, skipping the folders in `skip`.
fn rs_files(dir: &Path, skip: &[&Path]) -> Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    if !dir.is_dir() {
        return Ok(found);
    }
    let mut entries = fs::read_dir(dir)?
        .map(|entry| entry.map(|entry| entry.path()))
        .collect::<std::io::Result<Vec<_>>>()?;
    entries.sort();
    for path in entries {
        if path.is_dir() && !skip.contains(&path.as_path()) {
            found.extend(rs_files(&path, skip)?);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            found.push(path);
        }
    }
    Ok(found)
}

/// The import cycles of one crate root, each described on a few lines.
fn cycles(root: &Path, unit: &Unit) -> Result<Vec<String>> {
    let index: HashMap<&[String], usize> = unit
        .iter()
        .enumerate()
        .map(|(i, (_, module))| (module.as_slice(), i))
        .collect();
    let mut scanned = Vec::new();
    for (file, module) in unit {
        let src =
            fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
        scanned.push(scan::scan(&src, module));
    }
    let tests: Vec<&Vec<String>> = scanned.iter().flat_map(|s| &s.test_modules).collect();
    let is_test = |i: usize| tests.iter().any(|t| unit[i].1.starts_with(t));
    // edges[from][to] = the first reference that makes the edge
    let mut edges: Vec<BTreeMap<usize, &scan::Ref>> = vec![BTreeMap::new(); unit.len()];
    for (from, refs) in scanned.iter().enumerate() {
        if is_test(from) {
            continue;
        }
        for r in &refs.refs {
            let child = r.target.get(..=r.base_len);
            if r.relative && !child.is_some_and(|child| index.contains_key(child)) {
                continue;
            }
            let to = (1..=r.target.len())
                .rev()
                .find_map(|n| index.get(&r.target[..n]).copied());
            if let Some(to) = to.filter(|&to| to != from && !is_test(to)) {
                edges[from].entry(to).or_insert(r);
            }
        }
    }
    let graph: Vec<Vec<usize>> = edges.iter().map(|e| e.keys().copied().collect()).collect();
    let show = |i: usize| {
        unit[i]
            .0
            .strip_prefix(root)
            .unwrap_or(&unit[i].0)
            .display()
            .to_string()
    };
    let mut out = Vec::new();
    for component in strongly_connected(&graph) {
        let mut text = format!("import cycle between {} files:\n", component.len());
        for &from in &component {
            for (&to, r) in edges[from]
                .range(..)
                .filter(|(to, _)| component.contains(to))
            {
                let _ = writeln!(
                    text,
                    "  {}:{} uses {} ({})",
                    show(from),
                    r.line,
                    r.written,
                    show(to)
                );
            }
        }
        out.push(text);
    }
    Ok(out)
}

/// Tarjan's algorithm: the components of more than one node, each sorted, in node order.
fn strongly_connected(graph: &[Vec<usize>]) -> Vec<Vec<usize>> {
    struct State<'a> {
        graph: &'a [Vec<usize>],
        index: Vec<Option<usize>>,
        low: Vec<usize>,
        stack: Vec<usize>,
        on_stack: Vec<bool>,
        next: usize,
        found: Vec<Vec<usize>>,
    }
    fn visit(s: &mut State, v: usize) {
        s.index[v] = Some(s.next);
        s.low[v] = s.next;
        s.next += 1;
        s.stack.push(v);
        s.on_stack[v] = true;
        for &w in &s.graph[v] {
            match s.index[w] {
                None => {
                    visit(s, w);
                    s.low[v] = s.low[v].min(s.low[w]);
                }
                Some(iw) if s.on_stack[w] => s.low[v] = s.low[v].min(iw),
                Some(_) => {}
            }
        }
        if Some(s.low[v]) == s.index[v] {
            let mut component = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack[w] = false;
                component.push(w);
                if w == v {
                    break;
                }
            }
            if component.len() > 1 {
                component.sort_unstable();
                s.found.push(component);
            }
        }
    }
    let n = graph.len();
    let mut s = State {
        graph,
        index: vec![None; n],
        low: vec![0; n],
        stack: Vec::new(),
        on_stack: vec![false; n],
        next: 0,
        found: Vec::new(),
    };
    for v in 0..n {
        if s.index[v].is_none() {
            visit(&mut s, v);
        }
    }
    s.found.sort();
    s.found
}

/// `.rs` files outside `tests/`, `target/`, `node_modules/` and hidden folders that are longer
/// than [`MAX_LINES`], with their line counts.
fn long_files(root: &Path) -> Result<Vec<(String, usize)>> {
    let mut long = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in fs::read_dir(&dir)? {
            let path = entry?.path();
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            if path.is_dir() {
                if !(name.starts_with('.') || ["tests", "target", "node_modules"].contains(&&*name))
                {
                    dirs.push(path);
                }
            } else if name.ends_with(".rs") {
                let lines = line_count(&fs::read(&path)?);
                if lines > MAX_LINES {
                    let rel = path.strip_prefix(root).unwrap_or(&path);
                    long.push((rel.display().to_string(), lines));
                }
            }
        }
    }
    long.sort();
    Ok(long)
}

/// Lines as editors count them: a last line without `\n` counts too.
fn line_count(bytes: &[u8]) -> usize {
    String::from_utf8_lossy(bytes).lines().count()
}
