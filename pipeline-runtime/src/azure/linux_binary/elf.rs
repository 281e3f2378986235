//! The ELF check of the Linux binary: a Linux x86_64 executable that runs on Azure ML images,
//! static or loading through glibc's loader with no `GLIBC_` symbol version newer than
//! [`GLIBC_FLOOR`].

use std::fmt;
use std::path::Path;

use object::elf;
use object::read::elf::{Dyn, FileHeader, ProgramHeader};

use super::LinuxBinaryError;

/// The newest glibc a dynamically linked binary may need: 2.31, the glibc of Ubuntu 20.04, the
/// oldest base of Azure ML's images.
pub const GLIBC_FLOOR: GlibcVersion = GlibcVersion {
    major: 2,
    minor: 31,
};

/// The glibc program loader of x86_64 Linux; a dynamic binary loading through another one
/// (musl's) does not start on Azure ML's images.
pub const GLIBC_LOADER: &str = "/lib64/ld-linux-x86-64.so.2";

/// `DF_1_PIE` of `DT_FLAGS_1`: a position-independent executable, not a library.
const DF_1_PIE: u64 = 0x0800_0000;

/// A glibc version (`GLIBC_2.31` is 2.31).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GlibcVersion {
    /// Major version.
    pub major: u32,
    /// Minor version.
    pub minor: u32,
}

impl GlibcVersion {
    /// Parses a symbol version name: `GLIBC_2.34` is 2.34, `GLIBC_2.2.5` is 2.2;
    /// `GLIBC_PRIVATE` and names of other libraries are `None`.
    pub fn from_symbol_version(name: &str) -> Option<Self> {
        let rest = name.strip_prefix("GLIBC_")?;
        let mut parts = rest.split('.');
        let major = parts.next()?.parse().ok()?;
        let minor = parts.next().map_or(Some(0), |m| m.parse().ok())?;
        Some(Self { major, minor })
    }
}

impl fmt::Display for GlibcVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// How a checked binary is linked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Linkage {
    /// No program loader and no shared library: runs on any x86_64 Linux.
    Static,
    /// Loaded by glibc's loader; `newest` is the newest `GLIBC_` symbol version it needs.
    Glibc {
        /// The newest glibc version it needs (`None`: no versioned glibc symbol).
        newest: Option<GlibcVersion>,
    },
}

impl fmt::Display for Linkage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Linkage::Static => f.write_str("static"),
            Linkage::Glibc { newest: Some(v) } => write!(f, "dynamic, glibc {v} or newer"),
            Linkage::Glibc { newest: None } => f.write_str("dynamic, any glibc"),
        }
    }
}

/// Checks that the file is a Linux x86_64 executable that runs on Azure ML images: static, or
/// dynamic through glibc's loader needing no glibc newer than [`GLIBC_FLOOR`].
///
/// # Errors
///
/// [`LinuxBinaryError`] naming what is wrong (the processor, the kind of file, the glibc
/// version it needs) and how to build a binary that fits.
pub fn check_file(path: &Path) -> Result<Linkage, LinuxBinaryError> {
    let data = std::fs::read(path).map_err(|source| LinuxBinaryError::Read {
        path: path.to_owned(),
        source,
    })?;
    check_bytes(&data, path)
}

/// [`check_file`] on bytes already read; `path` names the file in errors.
///
/// # Errors
///
/// As [`check_file`].
pub fn check_bytes(data: &[u8], path: &Path) -> Result<Linkage, LinuxBinaryError> {
    let not_elf = |reason: &str| LinuxBinaryError::NotElf {
        path: path.to_owned(),
        reason: reason.to_owned(),
    };
    if data.get(..4) != Some(&elf::ELFMAG[..]) {
        return Err(not_elf("no ELF header"));
    }
    // e_ident[EI_CLASS] (byte 4): 2 is 64-bit.
    if data.get(4) != Some(&2) {
        return Err(not_elf("a 32-bit ELF file"));
    }
    let header = elf::FileHeader64::<object::Endianness>::parse(data)
        .map_err(|e| not_elf(&e.to_string()))?;
    let endian = header.endian().map_err(|e| not_elf(&e.to_string()))?;
    if !header.is_little_endian() {
        return Err(not_elf("a big-endian ELF file"));
    }
    let machine = header.e_machine(endian);
    if machine != elf::EM_X86_64 {
        return Err(LinuxBinaryError::WrongMachine {
            path: path.to_owned(),
            machine: machine_name(machine),
        });
    }
    let file_type = header.e_type(endian);
    let segments = header
        .program_headers(endian, data)
        .map_err(|e| not_elf(&e.to_string()))?;
    let mut interpreter = None;
    let mut needs_libraries = false;
    let mut pie = false;
    for segment in segments {
        if let Some(interp) = segment
            .interpreter(endian, data)
            .map_err(|e| not_elf(&e.to_string()))?
        {
            interpreter = Some(String::from_utf8_lossy(interp).into_owned());
        }
        if let Some(entries) = segment
            .dynamic(endian, data)
            .map_err(|e| not_elf(&e.to_string()))?
        {
            needs_libraries |= entries.iter().any(|d| d.d_tag(endian) == elf::DT_NEEDED);
            pie |= entries
                .iter()
                .any(|d| d.d_tag(endian) == elf::DT_FLAGS_1 && d.d_val(endian) & DF_1_PIE != 0);
        }
    }
    // A position-independent executable is `ET_DYN` like a shared library; it has a program
    // loader, or (static-pie) is flagged `DF_1_PIE`, or at least has an entry point and needs no
    // library.
    let executable = file_type == elf::ET_EXEC
        || (file_type == elf::ET_DYN
            && (interpreter.is_some() || pie || (header.e_entry(endian) != 0 && !needs_libraries)));
    if !executable {
        let what = if file_type == elf::ET_DYN {
            "a shared library"
        } else if file_type == elf::ET_REL {
            "an object file"
        } else {
            "an ELF file of an unknown kind"
        };
        return Err(LinuxBinaryError::NotExecutable {
            path: path.to_owned(),
            what,
        });
    }
    let Some(interpreter) = interpreter else {
        return Ok(Linkage::Static);
    };
    if interpreter != GLIBC_LOADER && interpreter != "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2" {
        return Err(LinuxBinaryError::ForeignLoader {
            path: path.to_owned(),
            interpreter,
        });
    }
    let newest = newest_glibc(header, endian, data).map_err(|e| not_elf(&e.to_string()))?;
    if let Some(needed) = newest
        && needed > GLIBC_FLOOR
    {
        return Err(LinuxBinaryError::GlibcTooNew {
            path: path.to_owned(),
            needed,
        });
    }
    Ok(Linkage::Glibc { newest })
}

/// The newest `GLIBC_x.y` version named in the file's version needs (`.gnu.version_r`).
fn newest_glibc(
    header: &elf::FileHeader64<object::Endianness>,
    endian: object::Endianness,
    data: &[u8],
) -> object::read::Result<Option<GlibcVersion>> {
    let sections = header.sections(endian, data)?;
    let Some((mut needs, link)) = sections.gnu_verneed(endian, data)? else {
        return Ok(None);
    };
    let strings = sections.strings(endian, data, link)?;
    let mut newest = None;
    while let Some((_, mut aux)) = needs.next()? {
        while let Some(entry) = aux.next()? {
            let name = String::from_utf8_lossy(entry.name(endian, strings)?).into_owned();
            if let Some(v) = GlibcVersion::from_symbol_version(&name) {
                newest = newest.max(Some(v));
            }
        }
    }
    Ok(newest)
}

fn machine_name(machine: elf::Machine) -> String {
    if machine == elf::EM_AARCH64 {
        "aarch64".to_owned()
    } else if machine == elf::EM_386 {
        "x86 (32-bit)".to_owned()
    } else {
        // The constant's name (`EM_ARM`, `EM_RISCV`, …) or its number.
        machine.to_string()
    }
}
