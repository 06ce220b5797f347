//! `cargo xtask bench fuzz`: builds the libFuzzer targets in `fuzz/` with cargo-fuzz, runs each
//! for a fixed time and prints a table (target, seconds, executions, exec/s, crashes). Not part
//! of the default `cargo xtask bench` set, nor of `cargo xtask test`: it is a long run on purpose.
//!
//! - Time per target: 60 s; `LENSCAST_FUZZ_SECS` overrides. `LENSCAST_FUZZ_TARGETS` (names
//!   separated by commas) runs only some targets.
//! - Sanitizer: `none` by default, which builds on stable rustc (cargo-fuzz then passes only
//!   `-C` flags: the sancov pass, its LLVM options, `--cfg fuzzing`, debug assertions).
//!   `LENSCAST_FUZZ_SANITIZER=address` asks for the address sanitizer, whose `-Zsanitizer` flag
//!   stable rustc accepts only with `RUSTC_BOOTSTRAP=1`, which is then set for that build (it
//!   works, at 3 to 9 times fewer executions per second; switching rebuilds everything).
//! - Inputs: each run reads the committed seeds `fuzz/seeds/<target>` and grows the git-ignored
//!   `fuzz/corpus/<target>`, with the dictionary `fuzz/dicts/<target>.dict`.
//! - A crash is a non-zero exit or a new file in `fuzz/artifacts/<target>` (libFuzzer writes the
//!   input there); the table names it. Logs: `target/bench/fuzz/<target>.log`.

use std::{
    fs,
    io::{BufRead, BufReader, Write},
    path::{Path, PathBuf},
    process::{Command, ExitStatus, Stdio},
    time::{Instant, SystemTime},
};

use anyhow::{Context, Result, bail};

use crate::{
    steps::{self, Ctx},
    tools,
};

/// One fuzz target: its name (a `[[bin]]` of `fuzz/Cargo.toml`) and its longest input.
struct Target {
    name: &'static str,
    /// Past the parser's own length limit, so the fuzzer reaches the "too long" paths.
    max_len: usize,
}

const TARGETS: [Target; 3] = [
    // Frame headers; the limit matters little, the check stops at the first SOFn.
    Target {
        name: "jpeg_inspect",
        max_len: 4096,
    },
    // `MAX_SPEC_LEN` is 2048 bytes.
    Target {
        name: "pipeline_spec",
        max_len: 4096,
    },
    // `MAX_QUERY_LEN` is 4096 bytes.
    Target {
        name: "page_url",
        max_len: 8192,
    },
];

const DEFAULT_SECS: u64 = 60;

/// What one run printed and left behind.
struct Outcome {
    target: &'static str,
    seconds: f64,
    executions: Option<u64>,
    exec_per_sec: Option<u64>,
    status: ExitStatus,
    artifacts: Vec<PathBuf>,
    log: PathBuf,
}

impl Outcome {
    fn crashes(&self) -> usize {
        if self.status.success() {
            self.artifacts.len()
        } else {
            self.artifacts.len().max(1)
        }
    }
}

pub fn run(ctx: &Ctx) -> Result<()> {
    tools::ensure_cargo_fuzz(ctx)?;
    let secs = seconds()?;
    let sanitizer = std::env::var("LENSCAST_FUZZ_SANITIZER").unwrap_or_else(|_| "none".into());
    let targets = selected()?;
    let logs = ctx.root.join("target/bench/fuzz");
    fs::create_dir_all(&logs)?;

    // `cargo fuzz build` builds one target or all of them.
    if targets.len() == TARGETS.len() {
        steps::run(cargo_fuzz(ctx, &sanitizer).args(["build", "--sanitizer", &sanitizer]))?;
    } else {
        for target in &targets {
            steps::run(cargo_fuzz(ctx, &sanitizer).args([
                "build",
                "--sanitizer",
                &sanitizer,
                target.name,
            ]))?;
        }
    }

    let mut outcomes = Vec::new();
    for target in targets {
        outcomes.push(run_target(ctx, target, secs, &sanitizer, &logs)?);
    }
    print_table(ctx, &outcomes, &sanitizer);
    let crashed: Vec<_> = outcomes
        .iter()
        .filter(|o| o.crashes() > 0)
        .map(|o| o.target)
        .collect();
    if !crashed.is_empty() {
        bail!("fuzz targets crashed: {}", crashed.join(", "));
    }
    Ok(())
}

fn seconds() -> Result<u64> {
    match std::env::var("LENSCAST_FUZZ_SECS") {
        Ok(text) => match text.trim().parse::<u64>() {
            Ok(secs) if secs > 0 => Ok(secs),
            _ => bail!("LENSCAST_FUZZ_SECS={text:?} is not a whole number of seconds above 0"),
        },
        Err(_) => Ok(DEFAULT_SECS),
    }
}

/// The targets `LENSCAST_FUZZ_TARGETS` names, or all of them.
fn selected() -> Result<Vec<&'static Target>> {
    let Ok(names) = std::env::var("LENSCAST_FUZZ_TARGETS") else {
        return Ok(TARGETS.iter().collect());
    };
    names
        .split(',')
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .map(|name| {
            TARGETS
                .iter()
                .find(|target| target.name == name)
                .with_context(|| {
                    let known: Vec<_> = TARGETS.iter().map(|t| t.name).collect();
                    format!(
                        "LENSCAST_FUZZ_TARGETS: no fuzz target {name:?} (known: {})",
                        known.join(", ")
                    )
                })
        })
        .collect()
}

/// `cargo fuzz`, run from the repository root (where cargo-fuzz finds `fuzz/`).
fn cargo_fuzz(ctx: &Ctx, sanitizer: &str) -> Command {
    let mut cmd = ctx.cargo();
    cmd.arg("fuzz");
    if sanitizer != "none" {
        cmd.env("RUSTC_BOOTSTRAP", "1");
    }
    cmd
}

fn run_target(
    ctx: &Ctx,
    target: &Target,
    secs: u64,
    sanitizer: &str,
    logs: &Path,
) -> Result<Outcome> {
    let fuzz = ctx.root.join("fuzz");
    let corpus = fuzz.join("corpus").join(target.name);
    let artifacts = fuzz.join("artifacts").join(target.name);
    fs::create_dir_all(&corpus)?;
    fs::create_dir_all(&artifacts)?;

    let mut cmd = cargo_fuzz(ctx, sanitizer);
    cmd.args(["run", "--sanitizer", sanitizer, target.name])
        .arg(&corpus)
        .arg(fuzz.join("seeds").join(target.name))
        .arg("--")
        .arg(format!("-max_total_time={secs}"))
        .arg(format!("-max_len={}", target.max_len))
        .arg(format!(
            "-dict={}",
            fuzz.join("dicts")
                .join(format!("{}.dict", target.name))
                .display()
        ))
        .arg("-print_final_stats=1")
        .stderr(Stdio::piped());
    println!(
        "\n==> fuzz {} for {secs} s\n$ {}",
        target.name,
        steps::show(&cmd)
    );

    let log = logs.join(format!("{}.log", target.name));
    let mut log_file =
        fs::File::create(&log).with_context(|| format!("cannot create {}", log.display()))?;
    let since = SystemTime::now();
    let started = Instant::now();
    let mut child = cmd
        .spawn()
        .with_context(|| format!("cannot start {}", steps::show(&cmd)))?;
    let mut stats = Stats::default();
    let mut stderr = BufReader::new(child.stderr.take().context("no stderr pipe")?);
    let mut raw = Vec::new();
    // Byte lines: a crash report may quote the input, which need not be UTF-8.
    while stderr.read_until(b'\n', &mut raw)? > 0 {
        let line = String::from_utf8_lossy(&raw);
        let line = line.trim_end();
        writeln!(log_file, "{line}")?;
        stats.read(line);
        // libFuzzer's progress lines (`#1024 pulse ...`, `#37 NEW ...`, `\tNEW_FUNC[1/2] ...`)
        // and the entries of its recommended dictionary (`"ab" # Uses: 3`) stay in the log.
        if !(line.starts_with(['#', '"']) || line.starts_with("\tNEW_FUNC")) {
            eprintln!("{line}");
        }
        raw.clear();
    }
    let status = child.wait()?;
    let wall = started.elapsed().as_secs_f64();

    let mut artifacts = new_files(&artifacts, since)?;
    for written in stats.written {
        let path = ctx.root.join(written);
        if !artifacts.contains(&path) {
            artifacts.push(path);
        }
    }
    let seconds = stats.seconds.map_or(wall, |s| s as f64);
    Ok(Outcome {
        target: target.name,
        seconds,
        executions: stats.executions,
        exec_per_sec: stats.exec_per_sec.or_else(|| {
            stats
                .executions
                .filter(|_| seconds > 0.0)
                .map(|n| (n as f64 / seconds) as u64)
        }),
        status,
        artifacts,
        log,
    })
}

/// The numbers libFuzzer prints at the end (`-print_final_stats=1`), also after a crash.
#[derive(Default)]
struct Stats {
    executions: Option<u64>,
    exec_per_sec: Option<u64>,
    seconds: Option<u64>,
    /// Inputs libFuzzer saved (`Test unit written to <path>`).
    written: Vec<String>,
}

impl Stats {
    fn read(&mut self, line: &str) {
        if let Some(rest) = line.strip_prefix("stat::number_of_executed_units:") {
            self.executions = rest.trim().parse().ok();
        } else if let Some(rest) = line.strip_prefix("stat::average_exec_per_sec:") {
            self.exec_per_sec = rest.trim().parse().ok();
        } else if let Some(rest) = line.strip_prefix("Done ") {
            // `Done 12345 runs in 61 second(s)`
            let words: Vec<_> = rest.split_whitespace().collect();
            if let [runs, "runs", "in", secs, ..] = words[..] {
                self.executions = self.executions.or_else(|| runs.parse().ok());
                self.seconds = secs.parse().ok();
            }
        } else if let Some((_, path)) = line.split_once("Test unit written to ") {
            self.written.push(path.trim().to_owned());
        }
    }
}

/// Files in `dir` modified after `since`.
fn new_files(dir: &Path, since: SystemTime) -> Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let meta = entry.metadata()?;
        if meta.is_file() && meta.modified()? >= since {
            found.push(entry.path());
        }
    }
    found.sort();
    Ok(found)
}

fn print_table(ctx: &Ctx, outcomes: &[Outcome], sanitizer: &str) {
    println!("\nfuzz targets (cargo-fuzz, libFuzzer, sanitizer: {sanitizer})\n");
    println!("| target | seconds | executions | exec/s | crashes | artifacts |");
    println!("|---|---|---|---|---|---|");
    for o in outcomes {
        let show = |n: Option<u64>| n.map_or_else(|| "?".to_owned(), thousands);
        let artifacts = if o.artifacts.is_empty() && o.status.success() {
            "none".to_owned()
        } else if o.artifacts.is_empty() {
            format!("none; {} (see {})", o.status, relative(ctx, &o.log))
        } else {
            o.artifacts
                .iter()
                .map(|path| relative(ctx, path))
                .collect::<Vec<_>>()
                .join(", ")
        };
        println!(
            "| {} | {:.0} | {} | {} | {} | {artifacts} |",
            o.target,
            o.seconds,
            show(o.executions),
            show(o.exec_per_sec),
            o.crashes(),
        );
    }
    println!(
        "\nlogs: {}",
        relative(ctx, &ctx.root.join("target/bench/fuzz"))
    );
}

fn relative(ctx: &Ctx, path: &Path) -> String {
    path.strip_prefix(&ctx.root)
        .unwrap_or(path)
        .display()
        .to_string()
}

/// `12345678` as `12 345 678`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(' ');
        }
        out.push(digit);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{Stats, thousands};

    #[test]
    fn reads_libfuzzer_final_stats() {
        let mut stats = Stats::default();
        for line in [
            "#1048576\tpulse  cov: 120 ft: 300 corp: 40/1200b exec/s: 349525 rss: 40Mb",
            "Done 21474836 runs in 61 second(s)",
            "stat::number_of_executed_units: 21474837",
            "stat::average_exec_per_sec:     352046",
            "stat::new_units_added:          12",
            "artifact_prefix='/r/fuzz/artifacts/x/'; Test unit written to /r/fuzz/artifacts/x/crash-ab",
        ] {
            stats.read(line);
        }
        assert_eq!(stats.executions, Some(21_474_837));
        assert_eq!(stats.exec_per_sec, Some(352_046));
        assert_eq!(stats.seconds, Some(61));
        assert_eq!(stats.written, ["/r/fuzz/artifacts/x/crash-ab"]);
    }

    #[test]
    fn groups_digits() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1 000");
        assert_eq!(thousands(12_345_678), "12 345 678");
    }
}
