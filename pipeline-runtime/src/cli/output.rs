//! The one path every line the command line prints takes, so that no write can panic.
//!
//! `println!` and `eprintln!` panic when the stream is gone (`| head -1` closes the pipe) or
//! full (`> /dev/full`). Here (through [`write_out`] and the `outln!`/`errln!` macros) a failed write to standard output is remembered, later writes are
//! dropped, and [`finish`] turns it into the exit code: a closed pipe ends the command quietly
//! (as Unix tools do, the reader asked for no more); any other error is reported and exits 1.
//! A failed write to standard error cannot be reported anywhere, so it is dropped.

use std::fmt;
use std::io::{self, Write};
use std::process::ExitCode;
use std::sync::Mutex;

/// The first error writing standard output met, if any.
static STDOUT_ERROR: Mutex<Option<io::Error>> = Mutex::new(None);

fn stdout_error() -> std::sync::MutexGuard<'static, Option<io::Error>> {
    STDOUT_ERROR
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Writes to standard output; after the first failure, nothing more is written.
pub(crate) fn write_out(args: fmt::Arguments<'_>) {
    let mut failed = stdout_error();
    if failed.is_some() {
        return;
    }
    if let Err(e) = io::stdout().lock().write_fmt(args) {
        *failed = Some(e);
    }
}

/// Writes to standard error; a failure is dropped (there is nowhere left to report it).
pub(crate) fn write_err(args: fmt::Arguments<'_>) {
    let _ = io::stderr().lock().write_fmt(args);
}

/// Flushes standard output and folds a write error into the exit code: a closed pipe keeps
/// `code`, any other error is printed and exits 1.
pub(crate) fn finish(code: ExitCode) -> ExitCode {
    let mut failed = stdout_error();
    if failed.is_none()
        && let Err(e) = io::stdout().lock().flush()
    {
        *failed = Some(e);
    }
    match failed.take() {
        None => code,
        Some(e) if e.kind() == io::ErrorKind::BrokenPipe => code,
        Some(e) => {
            write_err(format_args!(
                "error: cannot write to standard output: {e}\n"
            ));
            ExitCode::from(1)
        }
    }
}

/// Prints `e` as `error: …` and each cause it does not already say.
pub(crate) fn print_error(e: &(dyn std::error::Error + 'static)) {
    let text = e.to_string();
    write_err(format_args!("error: {text}\n"));
    let mut source = e.source();
    while let Some(s) = source {
        let cause = s.to_string();
        if !text.contains(&cause) {
            write_err(format_args!("  caused by: {cause}\n"));
        }
        source = s.source();
    }
}

/// `println!` to standard output through [`write_out`].
macro_rules! outln {
    () => { $crate::cli::output::write_out(::core::format_args!("\n")) };
    ($($arg:tt)*) => {
        $crate::cli::output::write_out(::core::format_args!("{}\n", ::core::format_args!($($arg)*)))
    };
}

/// `print!` to standard output through [`write_out`].
macro_rules! out {
    ($($arg:tt)*) => { $crate::cli::output::write_out(::core::format_args!($($arg)*)) };
}

/// `eprintln!` through [`write_err`].
macro_rules! errln {
    () => { $crate::cli::output::write_err(::core::format_args!("\n")) };
    ($($arg:tt)*) => {
        $crate::cli::output::write_err(::core::format_args!("{}\n", ::core::format_args!($($arg)*)))
    };
}

pub(crate) use {errln, out, outln};
