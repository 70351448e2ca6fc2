//! `rotate`: re-seals every listed field of a JSON Lines stream whose key
//! is not its alias's current primary, so the old key can be dropped.
//!
//! Records that fail (bad JSON, an envelope that does not open) are copied
//! verbatim to the errors file, which `rotate` can take again once the
//! cause is fixed; they are counted, reported on stderr, and make the exit
//! code 1. Nothing is dropped silently.

use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};

use crate::Outcome;
use crate::document::{Direction, FieldArgs, Fields};

/// How many failures are described on stderr one by one.
const REPORTED: usize = 20;

#[derive(clap::Args)]
pub struct Args {
    /// The JSON Lines input: a file, or `-` for stdin.
    #[arg(default_value = "-")]
    input: PathBuf,
    /// Where the re-encrypted records go; stdout by default.
    #[arg(long, short)]
    output: Option<PathBuf>,
    /// Where failed records go, verbatim (created only if one fails; must
    /// not exist yet).
    #[arg(long, default_value = "rotate-errors.jsonl")]
    errors: PathBuf,
    #[command(flatten)]
    fields: FieldArgs,
}

pub fn run(args: Args) -> Outcome {
    refuse_clobbering(&args)?;
    let fields = Fields::new(args.fields)?;
    let (input, size): (Box<dyn BufRead>, Option<u64>) = if args.input.as_os_str() == "-" {
        (Box::new(io::stdin().lock()), None)
    } else {
        let file = File::open(&args.input).map_err(|e| format!("{}: {e}", args.input.display()))?;
        let size = file.metadata().ok().map(|m| m.len());
        (Box::new(BufReader::with_capacity(1 << 16, file)), size)
    };
    // Written beside the output and renamed at the end: a run that stops
    // half way never leaves a half-written file under the output's name.
    let partial = args.output.as_ref().map(|path| {
        let mut name = path.as_os_str().to_owned();
        name.push(format!(".partial-{}", std::process::id()));
        PathBuf::from(name)
    });
    let output: Box<dyn Write> = match &partial {
        Some(path) => Box::new(File::create(path).map_err(|e| format!("{}: {e}", path.display()))?),
        None => Box::new(io::stdout().lock()),
    };
    let progress = match size {
        Some(size) if io::stderr().is_terminal() => {
            let bar = ProgressBar::new(size);
            bar.set_style(
                ProgressStyle::with_template(
                    "{bar:40} {bytes}/{total_bytes} {binary_bytes_per_sec} eta {eta}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            Some(bar)
        }
        _ => None,
    };
    let started = Instant::now();
    let summary = rotate(
        &fields,
        input,
        BufWriter::with_capacity(1 << 16, output),
        &args.errors,
        progress.as_ref(),
    )?;
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    if let (Some(partial), Some(output)) = (&partial, &args.output) {
        std::fs::rename(partial, output).map_err(|e| format!("{}: {e}", output.display()))?;
    }
    let seconds = started.elapsed().as_secs_f64();
    eprintln!(
        "rotate: {} records, {} fields re-encrypted, {} failed ({seconds:.1} s, {:.0} records/s)",
        summary.records,
        summary.fields,
        summary.failures,
        summary.records as f64 / seconds.max(1e-9),
    );
    if summary.failures > 0 {
        eprintln!(
            "rotate: the failed records are in {}, verbatim",
            args.errors.display()
        );
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

/// Refuses runs that would overwrite their own input, or an errors file
/// from an earlier run (whose records would be lost or mixed in).
fn refuse_clobbering(args: &Args) -> Result<(), String> {
    let same = |a: &PathBuf, b: &PathBuf| match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    if args.errors.exists() {
        if args.input.as_os_str() != "-" && same(&args.errors, &args.input) {
            return Err(format!(
                "{} is the input: give the failed records another --errors file",
                args.errors.display()
            ));
        }
        return Err(format!(
            "{} exists (failed records of an earlier run?): move it away or choose another --errors",
            args.errors.display()
        ));
    }
    if let Some(output) = &args.output
        && args.input.as_os_str() != "-"
        && same(output, &args.input)
    {
        return Err(format!(
            "{} is both input and output: write to another file, then replace",
            output.display()
        ));
    }
    Ok(())
}

#[derive(Default)]
struct Summary {
    records: usize,
    fields: usize,
    failures: usize,
}

fn rotate(
    fields: &Fields,
    mut input: Box<dyn BufRead>,
    mut output: impl Write,
    errors_path: &PathBuf,
    progress: Option<&ProgressBar>,
) -> io::Result<Summary> {
    let mut summary = Summary::default();
    let mut errors: Option<BufWriter<File>> = None;
    let mut line = Vec::new();
    let mut number = 0;
    loop {
        line.clear();
        let read = input.read_until(b'\n', &mut line)?;
        if read == 0 {
            break;
        }
        number += 1;
        if let Some(bar) = progress {
            bar.inc(read as u64);
        }
        let record = line.strip_suffix(b"\n").unwrap_or(&line);
        let record = record.strip_suffix(b"\r").unwrap_or(record);
        if record.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        summary.records += 1;
        let outcome = std::str::from_utf8(record)
            .map_err(|_| "not UTF-8".to_owned())
            .and_then(|text| fields.apply(text, Direction::Rotate));
        match outcome {
            Ok((text, changed)) => {
                summary.fields += changed;
                output.write_all(text.as_bytes())?;
                output.write_all(b"\n")?;
            }
            Err(error) => {
                summary.failures += 1;
                if summary.failures <= REPORTED + 1 {
                    let report = || {
                        if summary.failures <= REPORTED {
                            eprintln!("rotate: line {number}: {error}");
                        } else {
                            eprintln!("rotate: more failures; counting only");
                        }
                    };
                    // Above the bar, not through it.
                    match progress {
                        Some(bar) => bar.suspend(report),
                        None => report(),
                    }
                }
                let errors =
                    match &mut errors {
                        Some(errors) => errors,
                        None => errors.insert(BufWriter::new(File::create(errors_path).map_err(
                            |e| io::Error::new(e.kind(), format!("{}: {e}", errors_path.display())),
                        )?)),
                    };
                errors.write_all(record)?;
                errors.write_all(b"\n")?;
            }
        }
    }
    output.flush()?;
    if let Some(mut errors) = errors {
        errors.flush()?;
    }
    Ok(summary)
}
