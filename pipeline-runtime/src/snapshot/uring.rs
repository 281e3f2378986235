//! Reading a batch of the content hash through io_uring (Linux).
//!
//! Each piece of a batch becomes three linked requests: open the file into a slot of the ring's
//! own file table, read the piece into its place in the buffer, close the slot. The ring takes
//! [`CHAIN`] pieces per system call instead of three system calls per piece, and the files never
//! enter the process's descriptor table; on the benchmark tree's small files this costs about a
//! fifth less CPU than `open`/`read`/`close`.
//!
//! Anything short of a clean result (a failed open, a short or long read, a kernel without
//! these requests) makes [`Ring::read`] give up on the batch: the caller then reads it the plain
//! way, which also produces the error to report. A ring whose batch then reads fine the plain
//! way is not used again.

use std::ffi::CString;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::time::Duration;

use io_uring::{IoUring, opcode, squeue, types};

use super::SnapshotFile;
use super::hash::Piece;

/// Pieces submitted together (three requests each); also the size of the ring's file table.
const CHAIN: usize = 64;

/// One reader thread's ring.
pub(super) struct Ring {
    ring: IoUring,
}

/// What became of a batch.
pub(super) enum Outcome {
    /// Every piece read exactly as planned: the bytes in the buffer.
    Read(usize),
    /// Read the batch the plain way (it decides between an error and a ring to distrust).
    Plain,
    /// The ring itself failed: read the batch the plain way and drop the ring.
    Broken,
}

impl Ring {
    /// A ring with a file table of [`CHAIN`] slots, or `None` when the kernel refuses one
    /// (io_uring disabled, or a kernel older than 5.19).
    pub(super) fn new() -> Option<Ring> {
        let ring = IoUring::new((CHAIN * 4) as u32).ok()?;
        ring.submitter().register_files_sparse(CHAIN as u32).ok()?;
        Some(Ring { ring })
    }

    /// Reads `pieces` one after the other into `buf`, which must hold their total length plus
    /// one byte.
    ///
    /// If the ring fails while requests are in flight, `buf` is leaked (the kernel may still
    /// write to it) and replaced by a new buffer of the same length.
    pub(super) fn read(
        &mut self,
        files: &[SnapshotFile],
        pieces: &[Piece],
        buf: &mut Vec<u8>,
    ) -> Outcome {
        let total: usize = pieces.iter().map(|p| p.len).sum();
        if buf.len() <= total {
            return Outcome::Plain;
        }
        let mut pos = 0;
        let mut clean = true;
        for chain in pieces.chunks(CHAIN) {
            let Some(paths) = chain
                .iter()
                .map(|p| CString::new(files[p.file].path.as_os_str().as_bytes()).ok())
                .collect::<Option<Vec<_>>>()
            else {
                return Outcome::Plain;
            };
            match self.run_chain(chain, &paths, &mut buf[pos..]) {
                Chain::Done { clean: chain_clean } => clean &= chain_clean,
                Chain::NothingSubmitted => return Outcome::Broken,
                Chain::InFlight => {
                    // The kernel may still write into `buf` and read `paths`: never free them.
                    let len = buf.len();
                    std::mem::forget(std::mem::replace(buf, vec![0; len]));
                    std::mem::forget(paths);
                    return Outcome::Broken;
                }
            }
            pos += chain.iter().map(|p| p.len).sum::<usize>();
        }
        if clean {
            Outcome::Read(pos)
        } else {
            Outcome::Plain
        }
    }

    /// Submits one chain of at most [`CHAIN`] pieces, read into `buf` from its start, and waits
    /// for all of its completions.
    fn run_chain(&mut self, chain: &[Piece], paths: &[CString], buf: &mut [u8]) -> Chain {
        let mut pos = 0;
        {
            let mut queue = self.ring.submission();
            for (slot, (piece, path)) in chain.iter().zip(paths).enumerate() {
                // One byte more than expected on the last piece: reading it means the file grew.
                let want = piece.len + usize::from(piece.last);
                let slot = slot as u32;
                let Ok(target) = types::DestinationSlot::try_from_slot_target(slot) else {
                    return Chain::NothingSubmitted;
                };
                let open = opcode::OpenAt::new(types::Fd(libc::AT_FDCWD), path.as_ptr())
                    .flags(libc::O_RDONLY)
                    .file_index(Some(target))
                    .build()
                    .flags(squeue::Flags::IO_LINK)
                    .user_data(user_data(slot, OPEN));
                let read = opcode::Read::new(
                    types::Fixed(slot),
                    buf[pos..pos + want].as_mut_ptr(),
                    want as u32,
                )
                .offset(piece.offset)
                .build()
                // A hard link: the slot is closed even when the read comes back short.
                .flags(squeue::Flags::IO_HARDLINK)
                .user_data(user_data(slot, READ));
                let close = opcode::Close::new(types::Fixed(slot))
                    .build()
                    .user_data(user_data(slot, CLOSE));
                // SAFETY: the requests point into `path` and `buf`, which outlive them: every
                // completion is waited for below, and if the ring fails with requests in
                // flight, the caller leaks both.
                if unsafe { queue.push_multiple(&[open, read, close]) }.is_err() {
                    // Cannot happen (the queue holds four chains' worth of requests). Nothing is
                    // submitted yet, and a dropped ring never submits what it holds.
                    return Chain::NothingSubmitted;
                }
                pos += piece.len;
            }
        }

        let expected = chain.len() * 3;
        let (mut submitted, mut completed, mut clean) = (0, 0, true);
        while completed < expected {
            match self.ring.submit_and_wait(1) {
                Ok(n) => submitted += n,
                Err(e) if is_transient(&e) => {
                    if e.kind() != io::ErrorKind::Interrupted {
                        std::thread::sleep(Duration::from_millis(1));
                    }
                    continue;
                }
                Err(_) if submitted == 0 => return Chain::NothingSubmitted,
                Err(_) => return Chain::InFlight,
            }
            for cqe in self.ring.completion() {
                completed += 1;
                let (slot, op) = (cqe.user_data() >> 2, cqe.user_data() & 3);
                clean &= match op {
                    READ => chain
                        .get(slot as usize)
                        .is_some_and(|p| i64::from(cqe.result()) == p.len as i64),
                    _ => cqe.result() >= 0,
                };
            }
        }
        Chain::Done { clean }
    }
}

/// What became of one chain.
enum Chain {
    /// Every request completed; `clean` when each did exactly what was planned.
    Done { clean: bool },
    /// The ring failed before the kernel took any request.
    NothingSubmitted,
    /// The ring failed with requests in flight.
    InFlight,
}

const OPEN: u64 = 0;
const READ: u64 = 1;
const CLOSE: u64 = 2;

fn user_data(slot: u32, op: u64) -> u64 {
    u64::from(slot) << 2 | op
}

/// Errors of `io_uring_enter` that a retry gets past.
fn is_transient(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EINTR | libc::EAGAIN | libc::EBUSY)
    )
}
