//! The Linux binary of Rust steps: real ELF files made by the real compilers on this machine
//! (rustc for the musl and host targets, `cc`, `musl-gcc`), checked, staged, and built by cargo.
//!
//! Needs the `x86_64-unknown-linux-musl` Rust target and `musl-tools` (`.ci/run` installs both).
//! The host fixture assumes this machine's glibc is newer than the 2.31 floor (Debian 12: 2.36),
//! as the README says about building on a recent distribution.

#![cfg(feature = "azure")]

use std::path::{Path, PathBuf};
use std::process::Command;

use azureml_pipelines_runtime::azure::linux_binary::{
    BinarySource, BuildTarget, GLIBC_FLOOR, GlibcVersion, Linkage, LinuxBinaryError,
    LinuxBinaryOptions, check_file, prepare,
};

const MANIFEST_DIR: &str = env!("CARGO_MANIFEST_DIR");

fn run(cmd: &mut Command) {
    let out = cmd.output().expect("start compiler");
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// rustc, run from the repository so its `rust-toolchain.toml` picks the toolchain.
fn rustc_hello(dir: &Path, name: &str, target: Option<&str>) -> PathBuf {
    let src = dir.join("hello.rs");
    std::fs::write(&src, "fn main() { println!(\"hello from rust\"); }\n").unwrap();
    let out = dir.join(name);
    let mut cmd = Command::new("rustc");
    cmd.current_dir(MANIFEST_DIR).arg(&src).arg("-o").arg(&out);
    if let Some(t) = target {
        cmd.args(["--target", t]);
    }
    run(&mut cmd);
    out
}

fn c_program(dir: &Path, name: &str, cc: &str, source: &str, flags: &[&str]) -> PathBuf {
    let src = dir.join(format!("{name}.c"));
    std::fs::write(&src, source).unwrap();
    let out = dir.join(name);
    run(Command::new(cc).args(flags).arg(&src).arg("-o").arg(&out));
    out
}

fn options(dir: &Path) -> LinuxBinaryOptions {
    LinuxBinaryOptions {
        env_binary: None,
        running: None,
        target: Some(BuildTarget::Example("rust_steps".into())),
        file_name: "azureml-pipeline".into(),
        workdir: PathBuf::from(MANIFEST_DIR),
        cargo: std::env::var_os("CARGO").map_or_else(|| "cargo".into(), PathBuf::from),
        rustc: "rustc".into(),
        path_var: std::env::var_os("PATH"),
        musl_cc: None,
        staging_root: dir.join("staging"),
    }
}

#[test]
fn a_static_musl_binary_is_accepted_and_staged_alone_under_its_content_hash() {
    let tmp = tempfile::tempdir().unwrap();
    let musl = rustc_hello(tmp.path(), "hello-musl", Some("x86_64-unknown-linux-musl"));
    assert_eq!(check_file(&musl).unwrap(), Linkage::Static);

    let opts = LinuxBinaryOptions {
        env_binary: Some(musl.clone()),
        ..options(tmp.path())
    };
    let mut lines = Vec::new();
    let staged = prepare(&opts, &mut |l: &str| lines.push(l.to_owned())).unwrap();
    assert_eq!(staged.source, BinarySource::Env);
    assert_eq!(staged.file_name, "azureml-pipeline");
    assert_eq!(staged.original, musl);
    assert!(staged.dir.starts_with(tmp.path().join("staging")));
    let entries: Vec<String> = std::fs::read_dir(&staged.dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        entries,
        ["azureml-pipeline"],
        "the folder holds only the binary"
    );
    assert_eq!(
        std::fs::read(staged.path()).unwrap(),
        std::fs::read(&musl).unwrap()
    );
    assert_eq!(staged.size, std::fs::metadata(&musl).unwrap().len());
    let out = Command::new(staged.path()).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "hello from rust\n");
    assert!(lines.iter().any(|l| l.contains("static")), "{lines:?}");

    // The same content is staged in the same folder; another content in another.
    let again = prepare(&opts, &mut |_: &str| {}).unwrap();
    assert_eq!(again.dir, staged.dir);
    let other = c_program(
        tmp.path(),
        "other",
        "musl-gcc",
        "int main(void) { return 0; }\n",
        &["-static"],
    );
    let opts = LinuxBinaryOptions {
        env_binary: Some(other),
        ..options(tmp.path())
    };
    assert_ne!(prepare(&opts, &mut |_: &str| {}).unwrap().dir, staged.dir);
}

#[test]
fn a_binary_needing_a_glibc_newer_than_the_floor_is_refused_with_the_version() {
    let tmp = tempfile::tempdir().unwrap();
    let host = rustc_hello(tmp.path(), "hello-host", None);
    let err = check_file(&host).unwrap_err();
    let LinuxBinaryError::GlibcTooNew { needed, .. } = &err else {
        panic!("expected GlibcTooNew, got {err:?}");
    };
    assert!(*needed > GLIBC_FLOOR, "{needed}");
    let text = err.to_string();
    assert!(text.contains(&format!("GLIBC_{needed}")), "{text}");
    assert!(text.contains("newer than 2.31"), "{text}");
    assert!(
        text.contains("--target x86_64-unknown-linux-musl"),
        "{text}"
    );

    // Named by the environment variable, it stops `prepare` before anything is staged.
    let opts = LinuxBinaryOptions {
        env_binary: Some(host),
        ..options(tmp.path())
    };
    assert!(matches!(
        prepare(&opts, &mut |_: &str| {}),
        Err(LinuxBinaryError::GlibcTooNew { .. })
    ));
    assert!(!tmp.path().join("staging").exists());
}

#[test]
fn a_dynamic_binary_needing_only_an_old_glibc_is_accepted() {
    let tmp = tempfile::tempdir().unwrap();
    // No C runtime start files: `__libc_start_main@GLIBC_2.34` is not needed, only `puts` and
    // `exit` of glibc 2.2.5.
    let old = c_program(
        tmp.path(),
        "old-glibc",
        "cc",
        "#include <stdio.h>\n#include <stdlib.h>\nvoid _start(void) { puts(\"hi\"); exit(0); }\n",
        &["-nostartfiles"],
    );
    assert_eq!(
        check_file(&old).unwrap(),
        Linkage::Glibc {
            newest: Some(GlibcVersion { major: 2, minor: 2 })
        }
    );
}

#[test]
fn libraries_other_processors_and_musl_loaders_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let lib = c_program(
        tmp.path(),
        "libx.so",
        "cc",
        "int f(void) { return 1; }\n",
        &["-shared", "-fPIC"],
    );
    let err = check_file(&lib).unwrap_err();
    assert!(
        matches!(err, LinuxBinaryError::NotExecutable { what, .. } if what == "a shared library"),
        "{err:?}"
    );

    let musl = rustc_hello(tmp.path(), "hello-musl", Some("x86_64-unknown-linux-musl"));
    let mut bytes = std::fs::read(&musl).unwrap();
    // e_machine (bytes 18-19, little-endian): 183 is aarch64.
    bytes[18..20].copy_from_slice(&183u16.to_le_bytes());
    let arm = tmp.path().join("hello-arm");
    std::fs::write(&arm, bytes).unwrap();
    let err = check_file(&arm).unwrap_err();
    assert!(err.to_string().contains("built for aarch64"), "{err}");

    // A dynamic binary whose program loader is musl's.
    let musl_dynamic = c_program(
        tmp.path(),
        "musl-loader",
        "cc",
        "int main(void) { return 0; }\n",
        &["-Wl,--dynamic-linker=/lib/ld-musl-x86_64.so.1"],
    );
    let err = check_file(&musl_dynamic).unwrap_err();
    assert!(
        matches!(&err, LinuxBinaryError::ForeignLoader { interpreter, .. } if interpreter.contains("ld-musl")),
        "{err:?}"
    );

    let script = tmp.path().join("script.sh");
    std::fs::write(&script, "#!/bin/sh\necho hi\n").unwrap();
    let err = check_file(&script).unwrap_err();
    assert!(
        err.to_string().contains("is not a Linux executable"),
        "{err}"
    );
}

#[test]
fn the_running_binary_is_used_when_it_qualifies() {
    let tmp = tempfile::tempdir().unwrap();
    let musl = rustc_hello(tmp.path(), "hello-musl", Some("x86_64-unknown-linux-musl"));
    let opts = LinuxBinaryOptions {
        running: Some(musl),
        // A cargo that cannot start: proves nothing is built.
        cargo: tmp.path().join("no-cargo"),
        ..options(tmp.path())
    };
    let staged = prepare(&opts, &mut |_: &str| {}).unwrap();
    assert_eq!(staged.source, BinarySource::Running);
    assert_eq!(staged.linkage, Linkage::Static);
}

#[test]
fn a_missing_environment_binary_target_or_compiler_is_named_with_the_fix() {
    let tmp = tempfile::tempdir().unwrap();
    let opts = LinuxBinaryOptions {
        env_binary: Some(tmp.path().join("nope")),
        ..options(tmp.path())
    };
    let err = prepare(&opts, &mut |_: &str| {}).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("AZUREML_PIPELINES_LINUX_BINARY names `"),
        "{err}"
    );

    // The running binary (a host build) does not qualify, so a build is needed.
    let host = rustc_hello(tmp.path(), "hello-host", None);
    // A rustc whose sysroot has no musl standard library.
    let fake_rustc = tmp.path().join("fake-rustc");
    std::fs::write(&fake_rustc, "#!/bin/sh\necho /nonexistent-sysroot\n").unwrap();
    make_executable(&fake_rustc);
    let opts = LinuxBinaryOptions {
        running: Some(host.clone()),
        rustc: fake_rustc,
        ..options(tmp.path())
    };
    let err = prepare(&opts, &mut |_: &str| {}).unwrap_err();
    assert!(matches!(err, LinuxBinaryError::TargetMissing), "{err:?}");
    assert!(
        err.to_string()
            .contains("run `rustup target add x86_64-unknown-linux-musl`"),
        "{err}"
    );

    // No musl C compiler on PATH.
    let empty = tmp.path().join("empty-path");
    std::fs::create_dir(&empty).unwrap();
    let opts = LinuxBinaryOptions {
        running: Some(host),
        path_var: Some(empty.into_os_string()),
        ..options(tmp.path())
    };
    let err = prepare(&opts, &mut |_: &str| {}).unwrap_err();
    assert!(matches!(err, LinuxBinaryError::CompilerMissing), "{err:?}");
    assert!(
        err.to_string().contains("sudo apt-get install musl-tools"),
        "{err}"
    );
}

fn make_executable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// A package of one binary, with the repository's toolchain file.
fn tiny_package(dir: &Path, main: &str) -> PathBuf {
    let pkg = dir.join("tiny");
    std::fs::create_dir_all(pkg.join("src")).unwrap();
    std::fs::write(
        pkg.join("Cargo.toml"),
        "[package]\nname = \"tiny-pipe\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[workspace]\n",
    )
    .unwrap();
    std::fs::write(pkg.join("src/main.rs"), main).unwrap();
    std::fs::copy(
        Path::new(MANIFEST_DIR).join("../rust-toolchain.toml"),
        pkg.join("rust-toolchain.toml"),
    )
    .unwrap();
    pkg
}

#[test]
fn without_a_usable_binary_cargo_builds_one_for_musl_with_its_output_streamed() {
    let tmp = tempfile::tempdir().unwrap();
    let pkg = tiny_package(tmp.path(), "fn main() { println!(\"tiny\"); }\n");
    let host = rustc_hello(tmp.path(), "tiny-pipe", None);
    let opts = LinuxBinaryOptions {
        running: Some(host),
        target: Some(BuildTarget::Bin("tiny-pipe".into())),
        workdir: pkg.clone(),
        ..options(tmp.path())
    };
    let mut lines = Vec::new();
    let staged = prepare(&opts, &mut |l: &str| lines.push(l.to_owned())).unwrap();
    assert_eq!(staged.source, BinarySource::Built);
    assert_eq!(staged.linkage, Linkage::Static);
    assert!(
        staged
            .original
            .ends_with("x86_64-unknown-linux-musl/release/tiny-pipe"),
        "{}",
        staged.original.display()
    );
    assert!(
        lines[0]
            .contains("cargo build --release --target x86_64-unknown-linux-musl --bin tiny-pipe"),
        "{lines:?}"
    );
    assert!(lines.iter().any(|l| l.contains("Finished")), "{lines:?}");
    let out = Command::new(staged.path()).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "tiny\n");

    // A build that fails is reported with cargo's last lines.
    std::fs::write(
        pkg.join("src/main.rs"),
        "fn main() { let x: u8 = \"no\"; }\n",
    )
    .unwrap();
    let err = prepare(&opts, &mut |_: &str| {}).unwrap_err();
    let LinuxBinaryError::Build { tail, .. } = &err else {
        panic!("expected Build, got {err:?}");
    };
    assert!(tail.contains("mismatched types"), "{tail}");
    assert!(
        err.to_string().starts_with(
            "`cargo build --release --target x86_64-unknown-linux-musl --bin tiny-pipe` failed"
        ),
        "{err}"
    );
}
