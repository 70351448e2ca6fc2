//! `encrypted-fields`: the jobs around keys and encrypted documents, for
//! operators and for services in languages without the library.
//!
//! Output goes to stdout, messages and progress to stderr. Exit codes:
//! 0 success, 1 failure (including records `rotate` could not re-encrypt),
//! 2 usage error (including a plain keyset given as an argument).

/// `println!` that returns an error instead of panicking when stdout is
/// closed (`encrypted-fields inspect ... | head -0`).
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout().lock(), $($arg)*)?
    }};
}

mod document;
mod keys;
mod rotate;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "encrypted-fields", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Makes a key for ALIAS and prints its environment line (plain, or a
    /// KMS-wrapped keyset with --kms-key-id).
    Keygen {
        /// The alias, e.g. `pii` (lowercase letters, digits, `_`, `.`, `-`).
        alias: String,
        /// Key size.
        #[arg(long, default_value = "256", value_parser = ["128", "256"])]
        bits: String,
        /// Wrap the keyset under this KMS key (id, ARN or alias ARN).
        #[arg(long)]
        kms_key_id: Option<String>,
    },
    /// Rotation steps on a keyset: plain (`ENCRYPTED_FIELDS_KEY_*` value) or
    /// KMS-wrapped (`kms1:...`). Prints the new keyset on stdout.
    Keyset {
        #[command(subcommand)]
        step: keys::Step,
    },
    /// Reads an envelope without a key: version, key id, plaintext length.
    Inspect {
        /// The envelope text (the JSON string value, without quotes), or
        /// with --hex its bytes in hex, as a protobuf `bytes` field holds
        /// them (`xxd -p`).
        envelope: String,
        /// Read ENVELOPE as hex bytes (a protobuf companion's field).
        #[arg(long)]
        hex: bool,
    },
    /// Encrypts fields of a JSON document.
    Encrypt(document::Args),
    /// Decrypts fields of a JSON document.
    Decrypt(document::Args),
    /// Re-encrypts a JSON Lines stream under the current primary keys.
    Rotate(rotate::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Keygen {
            alias,
            bits,
            kms_key_id,
        } => keys::keygen(&alias, &bits, kms_key_id.as_deref()),
        Command::Keyset { step } => keys::keyset(step),
        Command::Inspect { envelope, hex } => document::inspect(&envelope, hex),
        Command::Encrypt(args) => document::run(args, document::Direction::Encrypt),
        Command::Decrypt(args) => document::run(args, document::Direction::Decrypt),
        Command::Rotate(args) => rotate::run(args),
    };
    match outcome {
        Ok(code) => code,
        Err(error) => {
            eprintln!("encrypted-fields: {error}");
            if error.is::<Usage>() {
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

/// What commands return: the exit code, or an error to print.
type Outcome = Result<ExitCode, Box<dyn std::error::Error>>;

/// A usage error found after parsing (exit code 2, as clap's own).
#[derive(Debug)]
struct Usage(String);

impl std::fmt::Display for Usage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Usage {}

/// A current-thread runtime for the KMS calls.
fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
}
