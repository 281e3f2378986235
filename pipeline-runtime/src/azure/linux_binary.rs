//! The Linux x86_64 build of the pipeline binary that Rust steps run from on Azure ML.
//!
//! A Rust step runs on an Azure ML compute as the pipeline binary itself (its hidden step entry
//! point), uploaded as the step's code asset. The compute's image has no Rust toolchain and no
//! Python, and its glibc may be old, so the binary must be a Linux x86_64 executable that is
//! either **static** (the musl target) or linked against a glibc no newer than
//! [`GLIBC_FLOOR`] (2.31, Ubuntu 20.04, the oldest base of Azure ML's images).
//!
//! [`prepare`] finds that binary, in this order:
//!
//! 1. `AZUREML_PIPELINES_LINUX_BINARY=PATH` ([`LINUX_BINARY_ENV`]): a binary the user built any
//!    way (`cargo build --release --target x86_64-unknown-linux-musl`, or
//!    `cargo zigbuild --release --target x86_64-unknown-linux-gnu.2.28` with `ziglang` from PyPI);
//! 2. the running binary, when it qualifies (a pipeline binary built for the musl target);
//! 3. else it builds one: `cargo build --release --target x86_64-unknown-linux-musl --bin NAME`
//!    (or `--example NAME`), run from the current folder, with cargo's output streamed. Missing
//!    pieces are named before cargo starts: the Rust target (`rustup target add …`) and the C
//!    compiler for musl that the bundled SQLite and `ring` need (`x86_64-linux-musl-gcc`, Debian
//!    and Ubuntu package `musl-tools`).
//!
//! Whatever its origin, the binary is **checked** ([`check_file`]) before anything is uploaded:
//! an ELF x86_64 executable, static or needing no `GLIBC_` symbol version newer than the floor
//! and loading through the glibc loader. It is then staged as a folder that holds only the
//! binary, named as the Rust steps' command line runs it ([`crate::wire::RUST_BINARY_FILE`],
//! `azureml-pipeline`), under a folder named by the binary's content hash
//! (`<target>/azureml-linux-binary/<hash>/azureml-pipeline`), so the code asset logic of submission hashes
//! and uploads it like any snapshot: once per content.
//!
//! Why past 600 lines: finding, building and staging are one decision (which binary goes up)
//! with one error type whose messages carry the fixes (about 140 lines), and the unit tests are
//! the last 80. The ELF check, a reason of its own (the file format), is in `linux_binary/elf.rs`.
//!
//! Why `object` for the ELF: it is the parser the Rust toolchain itself uses (backtraces,
//! `cargo`'s tooling), reads only what is asked, and its `read_core` + `elf` features build no
//! other format.

use std::ffi::OsString;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

mod elf;

pub use elf::{GLIBC_FLOOR, GLIBC_LOADER, GlibcVersion, Linkage, check_bytes, check_file};

/// The environment variable naming a Linux binary the user built: used instead of building one.
pub const LINUX_BINARY_ENV: &str = "AZUREML_PIPELINES_LINUX_BINARY";

/// The Rust target of the binary built when none is given: static, no glibc needed.
pub const MUSL_TARGET: &str = "x86_64-unknown-linux-musl";

/// The C compiler the musl target needs for the bundled SQLite and `ring`.
pub const MUSL_CC: &str = "x86_64-linux-musl-gcc";

/// Why no usable Linux binary could be had.
#[derive(Debug, thiserror::Error)]
pub enum LinuxBinaryError {
    /// `AZUREML_PIPELINES_LINUX_BINARY` names a file that is not there.
    #[error(
        "{LINUX_BINARY_ENV} names `{}`, which does not exist; build the Linux binary there or \
         unset {LINUX_BINARY_ENV} to have it built",
        path.display()
    )]
    EnvMissing {
        /// The path it names.
        path: PathBuf,
    },
    /// The file could not be read.
    #[error("cannot read the Linux binary `{}`: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
    /// The file is not a 64-bit little-endian ELF file.
    #[error(
        "`{}` is not a Linux executable ({reason}); build one with `cargo build --release \
         --target {MUSL_TARGET}`",
        path.display()
    )]
    NotElf {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The ELF file is for another processor.
    #[error(
        "`{}` is built for {machine}, but Azure ML computes run x86_64; build it with \
         `--target {MUSL_TARGET}`",
        path.display()
    )]
    WrongMachine {
        /// The file.
        path: PathBuf,
        /// The processor it is for.
        machine: String,
    },
    /// The ELF file is not an executable (a shared library, an object file).
    #[error("`{}` is {what}, not an executable; name the pipeline binary itself", path.display())]
    NotExecutable {
        /// The file.
        path: PathBuf,
        /// What it is.
        what: &'static str,
    },
    /// The binary needs a glibc newer than [`GLIBC_FLOOR`].
    #[error(
        "`{}` needs glibc {needed} (symbol version `GLIBC_{needed}`), newer than {GLIBC_FLOOR} \
         (Ubuntu 20.04) that Azure ML images are sure to have; build it static with \
         `rustup target add {MUSL_TARGET}` and `cargo build --release --target {MUSL_TARGET}`, or \
         against an older glibc with `cargo zigbuild --release --target \
         x86_64-unknown-linux-gnu.2.28`",
        path.display()
    )]
    GlibcTooNew {
        /// The file.
        path: PathBuf,
        /// The newest glibc version it needs.
        needed: GlibcVersion,
    },
    /// The binary loads through a program loader that Azure ML images do not have.
    #[error(
        "`{}` loads through `{interpreter}`, which Azure ML images do not have (they have \
         glibc's `{GLIBC_LOADER}`); build it static with `--target {MUSL_TARGET}`",
        path.display()
    )]
    ForeignLoader {
        /// The file.
        path: PathBuf,
        /// Its program loader.
        interpreter: String,
    },
    /// The musl target is not installed in the Rust toolchain.
    #[error(
        "the Rust target `{MUSL_TARGET}` is not installed, so the Linux binary for Azure ML \
         cannot be built; run `rustup target add {MUSL_TARGET}`, or set {LINUX_BINARY_ENV} to a \
         Linux x86_64 binary you built"
    )]
    TargetMissing,
    /// The C compiler for musl is missing.
    #[error(
        "building the Linux binary for Azure ML needs the C compiler `{MUSL_CC}` (the bundled \
         SQLite and `ring` are C); install it (Debian, Ubuntu: `sudo apt-get install musl-tools`), \
         or set {LINUX_BINARY_ENV} to a Linux x86_64 binary you built"
    )]
    CompilerMissing,
    /// `cargo` or `rustc` could not be started.
    #[error(
        "cannot run `{program}`: {source}; the Linux binary is built with cargo (install Rust \
         with rustup), or set {LINUX_BINARY_ENV} to a Linux x86_64 binary you built"
    )]
    Tool {
        /// The program.
        program: String,
        /// What went wrong.
        source: std::io::Error,
    },
    /// The running binary is not one cargo can build (its name is unknown).
    #[error(
        "cannot tell which binary to build for Azure ML from `{}`; set {LINUX_BINARY_ENV} to a \
         Linux x86_64 build of it",
        exe.display()
    )]
    UnknownBinary {
        /// The running binary.
        exe: PathBuf,
    },
    /// `cargo build` failed.
    #[error("`{command}` failed ({status}); its last lines:\n{tail}")]
    Build {
        /// The command line.
        command: String,
        /// How it ended.
        status: String,
        /// The last lines it printed.
        tail: String,
    },
    /// `cargo build` succeeded but named no executable of that name.
    #[error("`{command}` built no executable named `{name}`; set {LINUX_BINARY_ENV} to it")]
    NoArtifact {
        /// The command line.
        command: String,
        /// The binary's name.
        name: String,
    },
    /// The binary could not be copied into its staging folder.
    #[error("cannot stage the Linux binary in `{}`: {source}", path.display())]
    Stage {
        /// The staging path.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
}

impl LinuxBinaryError {
    /// Whether the binary given, or this machine's setup, is at fault (a command line exits 2),
    /// rather than a build or a file operation that failed (exit 1).
    pub fn is_bad_input(&self) -> bool {
        !matches!(
            self,
            LinuxBinaryError::Build { .. }
                | LinuxBinaryError::NoArtifact { .. }
                | LinuxBinaryError::Stage { .. }
        )
    }
}

/// Which binary of the user's package to build: the running pipeline binary's name and kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BuildTarget {
    /// A `[[bin]]` (`--bin NAME`).
    Bin(String),
    /// An example (`--example NAME`).
    Example(String),
}

impl BuildTarget {
    /// What cargo built `exe` as: an example when it lives in an `examples` folder
    /// (`target/debug/examples/NAME`), else a binary.
    pub fn of_exe(exe: &Path) -> Option<Self> {
        let name = exe.file_name()?.to_str()?.to_owned();
        let in_examples = exe
            .parent()
            .and_then(Path::file_name)
            .is_some_and(|d| d == "examples");
        Some(if in_examples {
            BuildTarget::Example(name)
        } else {
            BuildTarget::Bin(name)
        })
    }

    /// The binary's name.
    pub fn name(&self) -> &str {
        match self {
            BuildTarget::Bin(n) | BuildTarget::Example(n) => n,
        }
    }

    fn cargo_args(&self) -> [&str; 2] {
        match self {
            BuildTarget::Bin(n) => ["--bin", n],
            BuildTarget::Example(n) => ["--example", n],
        }
    }
}

/// Where the Linux binary came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BinarySource {
    /// `AZUREML_PIPELINES_LINUX_BINARY`.
    Env,
    /// The running binary qualified.
    Running,
    /// Built with cargo for the musl target.
    Built,
}

/// How [`prepare`] finds or builds the binary. [`LinuxBinaryOptions::from_env`] reads the
/// process; tests set the fields.
#[derive(Clone, Debug)]
pub struct LinuxBinaryOptions {
    /// `AZUREML_PIPELINES_LINUX_BINARY`, if set.
    pub env_binary: Option<PathBuf>,
    /// The running pipeline binary.
    pub running: Option<PathBuf>,
    /// What to build; from the running binary by default.
    pub target: Option<BuildTarget>,
    /// The staged file's name: [`crate::wire::RUST_BINARY_FILE`], what Rust steps' command
    /// line runs.
    pub file_name: String,
    /// The folder `cargo build` runs in (the user's package or workspace).
    pub workdir: PathBuf,
    /// `cargo` (the `CARGO` cargo sets for `cargo run`, else `cargo` from `PATH`).
    pub cargo: PathBuf,
    /// `rustc`, asked for its sysroot to check the musl target is installed.
    pub rustc: PathBuf,
    /// `PATH`, searched for the musl C compiler.
    pub path_var: Option<OsString>,
    /// A C compiler set for the musl target (`CC_x86_64_unknown_linux_musl`), which replaces
    /// the search for `x86_64-linux-musl-gcc`.
    pub musl_cc: Option<OsString>,
    /// The folder the binary is staged under (`<target dir>/azureml-linux-binary`).
    pub staging_root: PathBuf,
}

impl LinuxBinaryOptions {
    /// The options of this process: its environment, its own path, the current folder.
    pub fn from_env() -> Self {
        let running = std::env::current_exe().ok();
        let target = running.as_deref().and_then(BuildTarget::of_exe);
        let staging_root = target_dir(running.as_deref()).join("azureml-linux-binary");
        Self {
            env_binary: std::env::var_os(LINUX_BINARY_ENV)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from),
            running,
            target,
            file_name: crate::wire::RUST_BINARY_FILE.to_owned(),
            workdir: std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")),
            cargo: std::env::var_os("CARGO").map_or_else(|| "cargo".into(), PathBuf::from),
            rustc: std::env::var_os("RUSTC").map_or_else(|| "rustc".into(), PathBuf::from),
            path_var: std::env::var_os("PATH"),
            musl_cc: std::env::var_os("CC_x86_64_unknown_linux_musl").filter(|v| !v.is_empty()),
            staging_root,
        }
    }
}

/// The target dir of a binary cargo built: `CARGO_TARGET_DIR`, else the folder above the
/// profile folder the binary is in (`target/debug/examples/x` → `target`), else a folder
/// under the temporary folder.
fn target_dir(exe: Option<&Path>) -> PathBuf {
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR").filter(|v| !v.is_empty()) {
        return PathBuf::from(dir);
    }
    let from_exe = exe.and_then(|exe| {
        let mut dir = exe.parent()?;
        if dir
            .file_name()
            .is_some_and(|n| n == "examples" || n == "deps")
        {
            dir = dir.parent()?;
        }
        let mut target = dir.parent()?;
        // `target/<triple>/release`: the target dir is one more up.
        if target
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.contains("-linux-") || n.contains("-unknown-"))
        {
            target = target.parent()?;
        }
        Some(target.to_owned())
    });
    from_exe.unwrap_or_else(|| std::env::temp_dir().join("azureml-pipelines"))
}

/// The Linux binary, checked and staged: `dir` holds only `file_name`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinuxBinary {
    /// The staging folder: what is uploaded as the code asset.
    pub dir: PathBuf,
    /// The binary's file name inside it.
    pub file_name: String,
    /// The binary that was checked and copied there.
    pub original: PathBuf,
    /// Where it came from.
    pub source: BinarySource,
    /// How it is linked.
    pub linkage: Linkage,
    /// Its size in bytes.
    pub size: u64,
}

impl LinuxBinary {
    /// The staged binary.
    pub fn path(&self) -> PathBuf {
        self.dir.join(&self.file_name)
    }
}

/// What [`prepare`] reports as it goes: one line of its own, or one line cargo printed.
pub type Progress<'a> = &'a mut dyn FnMut(&str);

/// Finds (or builds), checks and stages the Linux binary, reporting progress lines (cargo's
/// output among them) to `progress`.
///
/// # Errors
///
/// [`LinuxBinaryError`]: a binary that does not qualify (why, and how to build one that does), a
/// toolchain piece missing for the build (what to install), a failed build (its last lines).
pub fn prepare(
    opts: &LinuxBinaryOptions,
    progress: Progress<'_>,
) -> Result<LinuxBinary, LinuxBinaryError> {
    let (original, source, linkage) = find(opts, progress)?;
    let file_name = opts.file_name.clone();
    let (dir, size) = stage(&original, &file_name, &opts.staging_root)?;
    progress(&format!(
        "Linux binary: {} ({}, {:.1} MB), staged in {}",
        original.display(),
        linkage,
        size as f64 / 1e6,
        dir.display()
    ));
    Ok(LinuxBinary {
        dir,
        file_name,
        original,
        source,
        linkage,
        size,
    })
}

fn find(
    opts: &LinuxBinaryOptions,
    progress: Progress<'_>,
) -> Result<(PathBuf, BinarySource, Linkage), LinuxBinaryError> {
    if let Some(path) = &opts.env_binary {
        if !path.is_file() {
            return Err(LinuxBinaryError::EnvMissing { path: path.clone() });
        }
        let linkage = check_file(path)?;
        return Ok((path.clone(), BinarySource::Env, linkage));
    }
    if let Some(running) = &opts.running
        && let Ok(linkage) = check_file(running)
    {
        return Ok((running.clone(), BinarySource::Running, linkage));
    }
    let target = opts
        .target
        .clone()
        .ok_or_else(|| LinuxBinaryError::UnknownBinary {
            exe: opts.running.clone().unwrap_or_default(),
        })?;
    let built = build(opts, &target, progress)?;
    let linkage = check_file(&built)?;
    Ok((built, BinarySource::Built, linkage))
}

/// `cargo build --release --target x86_64-unknown-linux-musl --bin|--example NAME`, after
/// checking the target and the C compiler are there; returns the executable cargo names.
fn build(
    opts: &LinuxBinaryOptions,
    target: &BuildTarget,
    progress: Progress<'_>,
) -> Result<PathBuf, LinuxBinaryError> {
    check_musl_target(opts)?;
    if opts.musl_cc.is_none() && !on_path(opts.path_var.as_deref(), MUSL_CC) {
        return Err(LinuxBinaryError::CompilerMissing);
    }
    let [kind, name] = target.cargo_args();
    let args = [
        "build",
        "--release",
        "--target",
        MUSL_TARGET,
        kind,
        name,
        "--message-format=json-render-diagnostics",
    ];
    let command = format!("cargo {}", args[..6].join(" "));
    progress(&format!(
        "building the Linux binary for Azure ML: {command}"
    ));
    let mut child = Command::new(&opts.cargo)
        .args(args)
        .current_dir(&opts.workdir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|source| LinuxBinaryError::Tool {
            program: opts.cargo.display().to_string(),
            source,
        })?;
    // stdout carries cargo's JSON messages (read on a thread); stderr its progress and
    // diagnostics, streamed line by line and the last ones kept for the error.
    let stdout = child.stdout.take();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        if let Some(mut out) = stdout {
            let _ = out.read_to_string(&mut text);
        }
        text
    });
    let mut tail: Vec<String> = Vec::new();
    if let Some(err) = child.stderr.take() {
        for line in BufReader::new(err).lines().map_while(Result::ok) {
            progress(&line);
            tail.push(line);
            if tail.len() > 20 {
                tail.remove(0);
            }
        }
    }
    let status = child.wait().map_err(|source| LinuxBinaryError::Tool {
        program: opts.cargo.display().to_string(),
        source,
    })?;
    let messages = reader.join().unwrap_or_default();
    if !status.success() {
        if tail.iter().any(|l| l.contains("failed to find tool")) {
            return Err(LinuxBinaryError::CompilerMissing);
        }
        return Err(LinuxBinaryError::Build {
            command,
            status: status.to_string(),
            tail: tail.join("\n"),
        });
    }
    executable_in(&messages, target.name()).ok_or_else(|| LinuxBinaryError::NoArtifact {
        command,
        name: target.name().to_owned(),
    })
}

/// The `executable` of the last `compiler-artifact` message for target `name`.
fn executable_in(messages: &str, name: &str) -> Option<PathBuf> {
    messages
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == name)
        .filter_map(|m| m["executable"].as_str().map(PathBuf::from))
        .next_back()
}

/// Errors with [`LinuxBinaryError::TargetMissing`] when the toolchain has no musl standard
/// library (`<sysroot>/lib/rustlib/x86_64-unknown-linux-musl`).
fn check_musl_target(opts: &LinuxBinaryOptions) -> Result<(), LinuxBinaryError> {
    let out = Command::new(&opts.rustc)
        .args(["--print", "sysroot"])
        .current_dir(&opts.workdir)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|source| LinuxBinaryError::Tool {
            program: opts.rustc.display().to_string(),
            source,
        })?;
    let sysroot = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    let lib = Path::new(&sysroot)
        .join("lib/rustlib")
        .join(MUSL_TARGET)
        .join("lib");
    if out.status.success() && lib.is_dir() {
        Ok(())
    } else {
        Err(LinuxBinaryError::TargetMissing)
    }
}

fn on_path(path_var: Option<&std::ffi::OsStr>, program: &str) -> bool {
    path_var.is_some_and(|p| std::env::split_paths(p).any(|dir| dir.join(program).is_file()))
}

/// Copies `binary` to `<root>/<hash>/<file_name>` (unless an earlier copy is there), executable;
/// returns the folder and the size.
fn stage(binary: &Path, file_name: &str, root: &Path) -> Result<(PathBuf, u64), LinuxBinaryError> {
    let bytes = std::fs::read(binary).map_err(|source| LinuxBinaryError::Read {
        path: binary.to_owned(),
        source,
    })?;
    let digest = ring::digest::digest(&ring::digest::SHA256, &bytes);
    let hex: String = digest.as_ref()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let dir = root.join(hex);
    let dest = dir.join(file_name);
    let size = bytes.len() as u64;
    let err = |source| LinuxBinaryError::Stage {
        path: dest.clone(),
        source,
    };
    if std::fs::metadata(&dest).is_ok_and(|m| m.len() == size) {
        return Ok((dir, size));
    }
    std::fs::create_dir_all(&dir).map_err(err)?;
    let partial = dir.join(format!(".{file_name}.partial"));
    std::fs::write(&partial, &bytes).map_err(err)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&partial, std::fs::Permissions::from_mode(0o755)).map_err(err)?;
    }
    std::fs::rename(&partial, &dest).map_err(err)?;
    Ok((dir, size))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glibc_versions_parse_and_order() {
        let v = |s| GlibcVersion::from_symbol_version(s);
        assert_eq!(
            v("GLIBC_2.34"),
            Some(GlibcVersion {
                major: 2,
                minor: 34
            })
        );
        assert_eq!(v("GLIBC_2.2.5"), Some(GlibcVersion { major: 2, minor: 2 }));
        assert_eq!(v("GLIBC_PRIVATE"), None);
        assert_eq!(v("GCC_3.0"), None);
        assert!(v("GLIBC_2.34").unwrap() > GLIBC_FLOOR);
        assert!(v("GLIBC_2.31").unwrap() <= GLIBC_FLOOR);
        assert!(v("GLIBC_2.9").unwrap() < GLIBC_FLOOR);
        assert_eq!(GLIBC_FLOOR.to_string(), "2.31");
    }

    #[test]
    fn build_target_follows_cargo_layout() {
        assert_eq!(
            BuildTarget::of_exe(Path::new("/p/target/debug/examples/rust_steps")),
            Some(BuildTarget::Example("rust_steps".into()))
        );
        assert_eq!(
            BuildTarget::of_exe(Path::new("/p/target/release/pipe")),
            Some(BuildTarget::Bin("pipe".into()))
        );
    }

    #[test]
    fn target_dir_is_above_the_profile_folder() {
        // Only when CARGO_TARGET_DIR is not set for this test process.
        if std::env::var_os("CARGO_TARGET_DIR").is_some() {
            return;
        }
        let t = |p: &str| target_dir(Some(Path::new(p)));
        assert_eq!(t("/p/target/debug/examples/x"), Path::new("/p/target"));
        assert_eq!(t("/p/target/debug/x"), Path::new("/p/target"));
        assert_eq!(
            t("/p/target/x86_64-unknown-linux-musl/release/x"),
            Path::new("/p/target")
        );
    }

    #[test]
    fn not_elf_and_truncated_files_are_refused_without_panicking() {
        let p = Path::new("x");
        for data in [
            &b""[..],
            b"#!/bin/sh\necho hi\n",
            b"\x7fELF",
            b"\x7fELF\x02\x01\x01\x00",
            b"\x7fELF\x01\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00",
        ] {
            let err = check_bytes(data, p).unwrap_err();
            assert!(
                matches!(err, LinuxBinaryError::NotElf { .. }),
                "{data:?}: {err}"
            );
        }
    }

    #[test]
    fn cargo_messages_name_the_executable() {
        let messages = concat!(
            r#"{"reason":"compiler-artifact","target":{"name":"dep"},"executable":null}"#,
            "\n",
            r#"{"reason":"compiler-artifact","target":{"name":"pipe"},"executable":"/t/pipe"}"#,
            "\n",
            r#"{"reason":"build-finished","success":true}"#,
        );
        assert_eq!(
            executable_in(messages, "pipe"),
            Some(PathBuf::from("/t/pipe"))
        );
        assert_eq!(executable_in(messages, "other"), None);
    }
}
