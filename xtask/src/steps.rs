//! Running commands: echo them, stream their output, and tally the test runners' summaries.

use std::{
    ffi::OsString,
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Command, Stdio},
};

use anyhow::{Context, Result, bail};

/// Project-local tools (installed from npm).
pub fn local_bin(root: &Path) -> PathBuf {
    root.join("target/tools/node_modules/.bin")
}

/// Where `cargo install` puts binaries.
pub fn cargo_bin() -> PathBuf {
    std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cargo")))
        .unwrap_or_else(|| PathBuf::from(".cargo"))
        .join("bin")
}

/// Where the project is and the `PATH` that finds its tools.
pub struct Ctx {
    pub root: PathBuf,
    path: OsString,
}

impl Ctx {
    pub fn new() -> Result<Self> {
        // At run time, not `env!`: clones sharing one target dir share this binary, and a
        // path baked in at build time would send every clone to the one that built it.
        let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR")
            .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from);
        let root = manifest_dir
            .parent()
            .context("xtask lives one folder below the workspace root")?
            .to_path_buf();
        let mut dirs = vec![local_bin(&root), cargo_bin()];
        if let Some(path) = std::env::var_os("PATH") {
            dirs.extend(std::env::split_paths(&path));
        }
        let path = std::env::join_paths(dirs)?;
        Ok(Self { root, path })
    }

    /// A command run in the workspace root with the tool `PATH`.
    pub fn cmd(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut cmd = Command::new(program);
        cmd.current_dir(&self.root).env("PATH", &self.path);
        cmd
    }

    /// Cargo's target folder (honours `CARGO_TARGET_DIR`).
    pub fn target_dir(&self) -> PathBuf {
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| self.root.join("target"), PathBuf::from)
    }

    pub fn cargo(&self) -> Command {
        self.cmd(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
    }
}

/// Runs `cmd` with inherited output; an error if it fails.
pub fn run(cmd: &mut Command) -> Result<()> {
    println!("$ {}", show(cmd));
    let status = cmd
        .status()
        .with_context(|| format!("cannot start {}", show(cmd)))?;
    if !status.success() {
        bail!("{} failed ({status})", show(cmd));
    }
    Ok(())
}

/// Runs `cmd` and returns its trimmed stdout, or `None` if it cannot run or fails.
pub fn output(cmd: &mut Command) -> Option<String> {
    let out = cmd.stderr(Stdio::null()).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// The command line as a person would type it.
pub fn show(cmd: &Command) -> String {
    std::iter::once(cmd.get_program())
        .chain(cmd.get_args())
        .map(|arg| arg.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Outcome of a `cargo xtask test` run: failed steps and summed test counts.
#[derive(Default)]
pub struct Tally {
    failed_steps: Vec<&'static str>,
    passed: u64,
    failed: u64,
    ignored: u64,
}

impl Tally {
    /// Runs one step to completion, echoing its output; returns whether it passed.
    /// Later steps still run after a failure so one CI log shows every problem.
    pub fn step(&mut self, name: &'static str, cmd: &mut Command) -> bool {
        println!("\n==> {name}\n$ {}", show(cmd));
        let ok = match cmd.stdout(Stdio::piped()).spawn() {
            Ok(mut child) => {
                if let Some(stdout) = child.stdout.take() {
                    for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                        println!("{line}");
                        self.count(&line);
                    }
                }
                child.wait().is_ok_and(|status| status.success())
            }
            Err(err) => {
                println!("cannot start: {err}");
                false
            }
        };
        if !ok {
            println!("==> {name}: FAILED");
            self.failed_steps.push(name);
        }
        ok
    }

    /// Adds up libtest's `test result: ok. 3 passed; 0 failed; 1 ignored; ...` lines.
    fn count(&mut self, line: &str) {
        let Some(rest) = line.trim().strip_prefix("test result: ") else {
            return;
        };
        for part in rest.split(';') {
            let mut words = part.split_whitespace().rev();
            let (Some(label), Some(number)) = (words.next(), words.next()) else {
                continue;
            };
            let Ok(n) = number.parse::<u64>() else {
                continue;
            };
            match label {
                "passed" => self.passed += n,
                "failed" => self.failed += n,
                "ignored" => self.ignored += n,
                _ => {}
            }
        }
    }

    pub fn finish(self) -> Result<()> {
        println!();
        if self.failed_steps.is_empty() {
            println!("all steps passed");
        } else {
            println!("failed steps: {}", self.failed_steps.join(", "));
        }
        println!(
            "total: {} passed, {} failed, {} skipped",
            self.passed, self.failed, self.ignored
        );
        if self.failed_steps.is_empty() && self.failed == 0 {
            Ok(())
        } else {
            bail!("{} step(s) failed", self.failed_steps.len())
        }
    }
}
