//! `rotate`: re-seals every listed field of a JSON Lines stream whose key
//! is not its alias's current primary, so the old key can be dropped.
//!
//! Records that fail (bad JSON, an envelope that does not open) are copied
//! verbatim to the errors file, which `rotate` can take again once the
//! cause is fixed; they are counted, reported on stderr, and make the exit
//! code 1. Nothing is dropped silently.

use std::fs::{File, OpenOptions, Permissions};
use std::io::{self, BufRead, BufReader, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};

use crate::document::{Direction, FieldArgs, Fields};
use crate::{Outcome, Usage};

/// How many failures are described on stderr one by one.
const REPORTED: usize = 20;

#[derive(clap::Args)]
pub struct Args {
    /// The JSON Lines input: a file, or `-` for stdin.
    #[arg(default_value = "-")]
    input: PathBuf,
    /// Where the re-encrypted records go; stdout by default. Written to a
    /// temporary file beside it first (an unpredictable name, created
    /// exclusively), with the input's permissions (0600 for stdin), and
    /// renamed over it at the end.
    #[arg(long, short)]
    output: Option<PathBuf>,
    /// Where failed records go, verbatim (created only if one fails; must
    /// not exist yet; the input's permissions, 0600 for stdin: they may
    /// hold plaintext that was never encrypted).
    #[arg(long, default_value = "rotate-errors.jsonl")]
    errors: PathBuf,
    /// The longest record (line) read, in bytes; a longer one goes to the
    /// errors file, reported with its line number, and the stream goes on.
    #[arg(long, default_value_t = 16 * 1024 * 1024)]
    max_record_bytes: usize,
    /// How many threads re-encrypt records; every core by default. With
    /// more than one, the reading and writing thread works alongside them.
    /// Output and errors stay in input order.
    #[arg(long)]
    jobs: Option<std::num::NonZeroUsize>,
    #[command(flatten)]
    fields: FieldArgs,
}

pub fn run(args: Args) -> Outcome {
    refuse_clobbering(&args)?;
    let fields = Fields::new(args.fields)?;
    // New files get the input's permissions; from stdin, owner-only
    // (tempfile's default, and 0600 for the errors file).
    let (input, size, permissions): (Box<dyn BufRead>, Option<u64>, Option<Permissions>) =
        if args.input.as_os_str() == "-" {
            (Box::new(io::stdin().lock()), None, None)
        } else {
            let file =
                File::open(&args.input).map_err(|e| format!("{}: {e}", args.input.display()))?;
            let metadata = file.metadata().ok();
            let size = metadata.as_ref().map(std::fs::Metadata::len);
            let permissions = metadata.map(|m| m.permissions());
            (
                Box::new(BufReader::with_capacity(1 << 16, file)),
                size,
                permissions,
            )
        };
    // Written beside the output under a name nobody can predict, created
    // exclusively (no symlink followed), and renamed at the end: a run
    // that stops half way never leaves a half-written file under the
    // output's name, and a planted link cannot redirect the writes.
    let partial = match &args.output {
        Some(path) => {
            let dir = match path.parent() {
                Some(dir) if !dir.as_os_str().is_empty() => dir,
                _ => Path::new("."),
            };
            let file = tempfile::Builder::new()
                .prefix(".rotate-")
                .tempfile_in(dir)
                .map_err(|e| format!("{}: {e}", dir.display()))?;
            if let Some(permissions) = &permissions {
                file.as_file()
                    .set_permissions(permissions.clone())
                    .map_err(|e| format!("{}: {e}", path.display()))?;
            }
            Some(file)
        }
        None => None,
    };
    let output: Box<dyn Write> = match &partial {
        Some(file) => Box::new(file.as_file().try_clone()?),
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
    let mut errors = Errors {
        path: &args.errors,
        permissions,
        file: None,
    };
    let jobs = args
        .jobs
        .or_else(|| std::thread::available_parallelism().ok())
        .map_or(1, std::num::NonZeroUsize::get);
    let summary = rotate(
        &fields,
        input,
        BufWriter::with_capacity(1 << 16, output),
        &mut errors,
        Limits {
            cap: args.max_record_bytes,
            jobs,
        },
        progress.as_ref(),
    )?;
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    if let (Some(partial), Some(output)) = (partial, &args.output) {
        partial
            .persist(output)
            .map_err(|e| format!("{}: {e}", output.display()))?;
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

/// Refuses runs that would overwrite their own input, an errors file from
/// an earlier run (whose records would be lost or mixed in), or put the
/// failed records where the output's final rename would replace them.
fn refuse_clobbering(args: &Args) -> Result<(), Usage> {
    let from_stdin = args.input.as_os_str() == "-";
    if let Some(output) = &args.output
        && same_file(output, &args.errors)
    {
        return Err(Usage(format!(
            "{} is both the output and the errors file: the output would replace the failed records",
            output.display()
        )));
    }
    if args.errors.exists() || args.errors.symlink_metadata().is_ok() {
        if !from_stdin && same_file(&args.errors, &args.input) {
            return Err(Usage(format!(
                "{} is the input: give the failed records another --errors file",
                args.errors.display()
            )));
        }
        return Err(Usage(format!(
            "{} exists (failed records of an earlier run?): move it away or choose another --errors",
            args.errors.display()
        )));
    }
    if let Some(output) = &args.output
        && !from_stdin
        && same_file(output, &args.input)
    {
        return Err(Usage(format!(
            "{} is both input and output: write to another file, then replace",
            output.display()
        )));
    }
    Ok(())
}

/// Whether two paths name one file: the same file if both exist, else the
/// same place (directory resolved, same name).
fn same_file(a: &Path, b: &Path) -> bool {
    let place = |path: &Path| {
        path.canonicalize().ok().or_else(|| {
            let dir = match path.parent() {
                Some(dir) if !dir.as_os_str().is_empty() => dir,
                _ => Path::new("."),
            };
            Some(dir.canonicalize().ok()?.join(path.file_name()?))
        })
    };
    matches!((place(a), place(b)), (Some(a), Some(b)) if a == b)
}

/// The errors file, created (exclusively, with the input's permissions or
/// owner-only) when the first record fails.
struct Errors<'a> {
    path: &'a Path,
    permissions: Option<Permissions>,
    file: Option<BufWriter<File>>,
}

impl Errors<'_> {
    fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        let file = match &mut self.file {
            Some(file) => file,
            None => {
                let mut options = OpenOptions::new();
                options.write(true).create_new(true);
                #[cfg(unix)]
                std::os::unix::fs::OpenOptionsExt::mode(
                    &mut options,
                    self.permissions
                        .as_ref()
                        .map_or(0o600, std::os::unix::fs::PermissionsExt::mode),
                );
                let file = options.open(self.path).map_err(|e| {
                    io::Error::new(e.kind(), format!("{}: {e}", self.path.display()))
                })?;
                self.file.insert(BufWriter::new(file))
            }
        };
        file.write_all(bytes)
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.file {
            Some(file) => file.flush(),
            None => Ok(()),
        }
    }
}

#[derive(Default)]
struct Summary {
    records: usize,
    fields: usize,
    failures: usize,
}

/// One line of input: a record within the size cap, or one over it, which
/// has already been copied to the errors file.
enum Line {
    End,
    Record(usize),
    TooLong(usize),
}

/// Reads the next line into `line` (without its `\n`), up to `cap` bytes;
/// a longer line is streamed into the errors file instead of memory, after
/// `flush_first` has written what was read before it.
fn next_line(
    input: &mut dyn BufRead,
    line: &mut Vec<u8>,
    cap: usize,
    errors: &mut Errors<'_>,
    flush_first: &mut dyn FnMut(&mut Errors<'_>) -> io::Result<()>,
) -> io::Result<Line> {
    line.clear();
    let mut read = 0;
    let mut overflowed = false;
    let mut line_ended = false;
    loop {
        let chunk = input.fill_buf()?;
        if chunk.is_empty() {
            break;
        }
        let (part, done) = match chunk.iter().position(|&b| b == b'\n') {
            Some(at) => (&chunk[..at], Some(at + 1)),
            None => (chunk, None),
        };
        if overflowed {
            errors.write(part)?;
        } else if line.len() + part.len() > cap.saturating_add(1) {
            // (One byte over the cap is kept: it may be a CR, checked below.)
            overflowed = true;
            flush_first(errors)?;
            errors.write(line)?;
            errors.write(part)?;
            line.clear();
        } else {
            line.extend_from_slice(part);
        }
        let used = done.unwrap_or(chunk.len());
        input.consume(used);
        read += used;
        if done.is_some() {
            line_ended = true;
            break;
        }
    }
    let content = line.strip_suffix(b"\r").unwrap_or(line);
    if !overflowed && content.len() > cap {
        overflowed = true;
        flush_first(errors)?;
        errors.write(line)?;
        line.clear();
    }
    Ok(match (read, overflowed) {
        (0, _) => Line::End,
        (read, true) => {
            // Verbatim: a newline only if the input had one.
            if line_ended {
                errors.write(b"\n")?;
            }
            Line::TooLong(read)
        }
        (read, false) => Line::Record(read),
    })
}

/// The record size cap and how many records run at once.
struct Limits {
    cap: usize,
    jobs: usize,
}

/// The bytes of records a batch holds (plus one record); with a batch in
/// flight and the next being read, at most twice this is held, so memory
/// stays bounded whatever the input.
const BATCH_BYTES: usize = 8 << 20;

/// One record of a batch: its line number and bytes.
struct Pending {
    number: usize,
    record: Vec<u8>,
}

fn rotate(
    fields: &Fields,
    mut input: Box<dyn BufRead>,
    output: impl Write,
    errors: &mut Errors<'_>,
    limits: Limits,
    progress: Option<&ProgressBar>,
) -> io::Result<Summary> {
    let mut sink = Sink {
        output,
        summary: Summary::default(),
        progress,
    };
    // A batch is re-encrypted on `jobs` threads while this thread writes
    // the one before and reads the next, so reading and writing, which
    // only one thread can do, overlap the work.
    std::thread::scope(|scope| {
        let mut pipeline = Pipeline {
            scope,
            fields,
            jobs: limits.jobs,
            in_flight: None,
        };
        let mut batch: Vec<Pending> = Vec::new();
        let mut batch_bytes = 0;
        let mut line = Vec::new();
        let mut number = 0;
        loop {
            // Over-cap lines are streamed into the errors file as they are
            // read; every batch before them goes out first, so the errors
            // file keeps input order.
            let mut flush_first = |errors: &mut Errors<'_>| {
                for done in pipeline.finish(std::mem::take(&mut batch))? {
                    sink.write_batch(done, errors)?;
                }
                Ok(())
            };
            let read = next_line(&mut *input, &mut line, limits.cap, errors, &mut flush_first)?;
            match read {
                Line::End => break,
                Line::TooLong(read) => {
                    number += 1;
                    if let Some(bar) = progress {
                        bar.inc(read as u64);
                    }
                    sink.summary.records += 1;
                    report(
                        &mut sink.summary,
                        number,
                        &format!(
                            "longer than {} bytes (--max-record-bytes); copied to the errors file",
                            limits.cap
                        ),
                        progress,
                    );
                    batch_bytes = 0;
                }
                Line::Record(read) => {
                    number += 1;
                    if let Some(bar) = progress {
                        bar.inc(read as u64);
                    }
                    let record = line.strip_suffix(b"\r").unwrap_or(&line);
                    if record.iter().all(u8::is_ascii_whitespace) {
                        continue;
                    }
                    batch_bytes += record.len();
                    batch.push(Pending {
                        number,
                        record: record.to_vec(),
                    });
                    if batch_bytes >= BATCH_BYTES || batch.len() >= 4096 * limits.jobs {
                        if let Some(done) = pipeline.submit(std::mem::take(&mut batch))? {
                            sink.write_batch(done, errors)?;
                        }
                        batch_bytes = 0;
                    }
                }
            }
        }
        for done in pipeline.finish(batch)? {
            sink.write_batch(done, errors)?;
        }
        sink.output.flush()?;
        errors.flush()?;
        Ok(sink.summary)
    })
}

/// A batch and what re-encrypting each of its records gave, in order.
type Done = (Vec<Pending>, Vec<Result<(String, usize), String>>);

/// Batches on their way through re-encryption: at most one in flight on a
/// thread of its own, so the reading and writing thread is never blocked
/// by more than the batch before.
struct Pipeline<'scope, 'env> {
    scope: &'scope std::thread::Scope<'scope, 'env>,
    fields: &'scope Fields,
    jobs: usize,
    in_flight: Option<std::thread::ScopedJoinHandle<'scope, Done>>,
}

impl<'scope> Pipeline<'scope, '_> {
    /// Waits for the batch in flight, then starts re-encrypting `batch`
    /// and returns the finished one for writing: the new one is at work
    /// while it is written and the next is read, and never more than
    /// `jobs` threads re-encrypt at once. With one job there is no
    /// pipeline: the batch is re-encrypted here, at once.
    fn submit(&mut self, batch: Vec<Pending>) -> io::Result<Option<Done>> {
        if batch.is_empty() {
            return Ok(None);
        }
        let (fields, jobs) = (self.fields, self.jobs);
        if jobs <= 1 {
            let results = re_encrypt(fields, jobs, &batch);
            return Ok(Some((batch, results)));
        }
        let finished = self.drain()?;
        self.in_flight = Some(self.scope.spawn(move || {
            let results = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                re_encrypt(fields, jobs, &batch)
            }))
            .unwrap_or_else(|_| panicked(batch.len()));
            (batch, results)
        }));
        Ok(finished)
    }

    /// Waits for the batch in flight, if any.
    fn drain(&mut self) -> io::Result<Option<Done>> {
        self.in_flight
            .take()
            .map(|handle| {
                // The thread catches every panic of the work it runs.
                handle
                    .join()
                    .map_err(|_| io::Error::other("a re-encryption thread failed"))
            })
            .transpose()
    }

    /// Re-encrypts `batch` and finishes the one in flight: everything read
    /// so far, in input order.
    fn finish(&mut self, batch: Vec<Pending>) -> io::Result<impl Iterator<Item = Done>> {
        let earlier = self.submit(batch)?;
        Ok([earlier, self.drain()?].into_iter().flatten())
    }
}

/// The results of `len` records whose re-encryption panicked: one failure
/// each, so later results do not shift onto the wrong records.
fn panicked(len: usize) -> Vec<Result<(String, usize), String>> {
    vec![Err("re-encryption panicked".to_owned()); len]
}

/// Records a re-encrypting thread takes at a time: small enough that the
/// threads finish a batch together (a fixed split leaves one idle while
/// another, slowed by the reading thread, catches up), large enough that
/// taking the next costs nothing.
const CHUNK: usize = 256;

/// Re-encrypts `batch` on `jobs` threads, which take chunks of it in turn;
/// one result per record, in order.
fn re_encrypt(
    fields: &Fields,
    jobs: usize,
    batch: &[Pending],
) -> Vec<Result<(String, usize), String>> {
    let apply = |pending: &Pending| {
        std::str::from_utf8(&pending.record)
            .map_err(|_| "not UTF-8".to_owned())
            .and_then(|text| fields.apply(text, Direction::Rotate))
    };
    if jobs <= 1 || batch.len() <= CHUNK {
        return batch.iter().map(apply).collect();
    }
    let chunks: Vec<&[Pending]> = batch.chunks(CHUNK).collect();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut done: Vec<Option<Vec<_>>> = vec![None; chunks.len()];
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..jobs.min(chunks.len()))
            .map(|_| {
                scope.spawn(|| {
                    let mut taken = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(chunk) = chunks.get(i) else {
                            return taken;
                        };
                        taken.push((i, chunk.iter().map(apply).collect::<Vec<_>>()));
                    }
                })
            })
            .collect();
        for worker in workers {
            // A thread that panicked loses the chunks it took; they are
            // reported below, one failure per record.
            for (i, results) in worker.join().unwrap_or_default() {
                done[i] = Some(results);
            }
        }
    });
    chunks
        .iter()
        .zip(done)
        .flat_map(|(chunk, results)| results.unwrap_or_else(|| panicked(chunk.len())))
        .collect()
}

/// Where re-encrypted batches go: the output, in input order, and the
/// run's counts.
struct Sink<'a, W> {
    output: W,
    summary: Summary,
    progress: Option<&'a ProgressBar>,
}

impl<W: Write> Sink<'_, W> {
    /// Writes a re-encrypted batch: each record, or its line copied to the
    /// errors file, in input order.
    fn write_batch(&mut self, (batch, results): Done, errors: &mut Errors<'_>) -> io::Result<()> {
        for (pending, result) in batch.iter().zip(results) {
            self.summary.records += 1;
            match result {
                Ok((text, changed)) => {
                    self.summary.fields += changed;
                    self.output.write_all(text.as_bytes())?;
                    self.output.write_all(b"\n")?;
                }
                Err(error) => {
                    errors.write(&pending.record)?;
                    errors.write(b"\n")?;
                    report(&mut self.summary, pending.number, &error, self.progress);
                }
            }
        }
        Ok(())
    }
}

/// Counts a failure and describes the first ones on stderr.
fn report(summary: &mut Summary, number: usize, error: &str, progress: Option<&ProgressBar>) {
    summary.failures += 1;
    if summary.failures > REPORTED + 1 {
        return;
    }
    let failures = summary.failures;
    let say = || {
        if failures <= REPORTED {
            eprintln!("rotate: line {number}: {error}");
        } else {
            eprintln!("rotate: more failures; counting only");
        }
    };
    // Above the bar, not through it.
    match progress {
        Some(bar) => bar.suspend(say),
        None => say(),
    }
}
