//! [`Snapshot::content_hash`](super::Snapshot::content_hash): the SDK's `get_content_hash`.
//!
//! The digest is one SHA-256 stream: the file count, `#relative#size` for every file, then every
//! file's bytes, in order. The stream cannot be split, so the speed comes from keeping the one
//! hashing thread busy: reader threads (one per other core) open and read the files ahead of it
//! into reused buffers ("batches" of many small files or one piece of a big file), at most
//! [`WINDOW`] batches ahead, and the hashing thread takes the batches strictly in order.
//!
//! SHA-256 itself is [`Sha256`], ring's assembly implementation (it uses the CPU's SHA
//! extensions when it has them). Its speed does not depend on the optimisation level of the
//! user's build: `cargo run` builds in debug, where a pure-Rust SHA-256 runs 30-40 times slower.
//!
//! The threads hardly ever sleep on each other: every sleep costs a system call and, to wake,
//! an interrupt to the other core (measured: ~8 µs of the hashing thread's time per batch, 3-4
//! ms per 200 MB). The hashing thread spins briefly for a batch that is about to arrive, hands
//! each buffer back to its reader on that reader's own channel (no shared lock), and wakes a
//! reader that got a full window ahead only once half the window is free.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::ops::Range;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use super::{SnapshotError, SnapshotFile, hex};

/// An incremental SHA-256, fast in debug builds too (see the module docs).
#[derive(Clone)]
pub(crate) struct Sha256(ring::digest::Context);

impl Sha256 {
    /// An empty digest.
    pub(crate) fn new() -> Self {
        Sha256(ring::digest::Context::new(&ring::digest::SHA256))
    }

    /// A digest that has already taken `prefix`.
    pub(crate) fn new_with_prefix(prefix: impl AsRef<[u8]>) -> Self {
        let mut h = Self::new();
        h.update(prefix);
        h
    }

    /// Feeds `bytes`.
    pub(crate) fn update(&mut self, bytes: impl AsRef<[u8]>) {
        self.0.update(bytes.as_ref());
    }

    /// The 32-byte digest.
    pub(crate) fn finalize(self) -> [u8; 32] {
        let mut out = [0; 32];
        out.copy_from_slice(self.0.finish().as_ref());
        out
    }

    /// The digest of `bytes` at once.
    pub(crate) fn digest(bytes: impl AsRef<[u8]>) -> [u8; 32] {
        let mut h = Self::new();
        h.update(bytes);
        h.finalize()
    }
}

/// Bytes per batch; a bigger file is read in pieces of this size.
const BATCH_BYTES: usize = 512 * 1024;
/// Batches read ahead of the hasher (memory bound: `WINDOW * BATCH_BYTES`).
const WINDOW: usize = 16;
/// Below this many bytes, threads cost more than they save.
const THREADED_FROM: u64 = 2 * 1024 * 1024;
/// Reader threads at most.
const MAX_READERS: usize = 4;
/// How long the hashing thread spins for the next batch before it sleeps.
const SPIN: Duration = Duration::from_micros(100);

pub(super) fn content_hash(files: &[SnapshotFile]) -> Result<String, SnapshotError> {
    let mut hasher = Sha256::new();
    let plan = Plan::new(files);
    let total: u64 = files.iter().map(|f| f.size).sum();
    // The hashing thread keeps a core to itself; the other cores read ahead for it. (On two
    // cores, a second reader only takes time from the hashing thread: measured 20-30 ms slower
    // on the 200 MB benchmark tree.)
    let cores = thread::available_parallelism().map_or(1, |n| n.get());
    let readers = (cores - 1).clamp(1, MAX_READERS);
    if cores < 2 || total < THREADED_FROM || plan.batches.len() < 2 {
        hasher.update(header(files).as_bytes());
        let mut buf = vec![0; BATCH_BYTES + 1];
        for batch in &plan.batches {
            let len = plan.read(files, batch.clone(), &mut buf)?;
            hasher.update(&buf[..len]);
        }
    } else {
        pipelined(files, &plan, readers, &mut hasher)?;
    }
    Ok(hex(&hasher.finalize()))
}

/// `str(len(files))`, then `"#" + relative + "#"` and `str(size)` per file.
fn header(files: &[SnapshotFile]) -> String {
    let mut out = String::with_capacity(files.iter().map(|f| f.relative.len() + 24).sum());
    let mut number = itoa::Buffer::new();
    out.push_str(number.format(files.len()));
    for file in files {
        out.push('#');
        out.push_str(&file.relative);
        out.push('#');
        out.push_str(number.format(file.size));
    }
    out
}

/// A byte range of one file; the last piece of a file also checks that the file ends there.
#[derive(Debug, Clone, Copy)]
pub(super) struct Piece {
    pub(super) file: usize,
    pub(super) offset: u64,
    pub(super) len: usize,
    pub(super) last: bool,
}

/// The files cut into pieces, and the pieces grouped into batches of at most [`BATCH_BYTES`].
struct Plan {
    pieces: Vec<Piece>,
    batches: Vec<Range<usize>>,
}

impl Plan {
    fn new(files: &[SnapshotFile]) -> Plan {
        let mut pieces = Vec::with_capacity(files.len());
        for (index, file) in files.iter().enumerate() {
            let mut offset = 0;
            loop {
                let len = (file.size - offset).min(BATCH_BYTES as u64) as usize;
                let last = offset + len as u64 == file.size;
                pieces.push(Piece {
                    file: index,
                    offset,
                    len,
                    last,
                });
                offset += len as u64;
                if last {
                    break;
                }
            }
        }
        let mut batches = Vec::new();
        let (mut start, mut bytes) = (0, 0);
        for (i, piece) in pieces.iter().enumerate() {
            if bytes + piece.len > BATCH_BYTES {
                batches.push(start..i);
                (start, bytes) = (i, 0);
            }
            bytes += piece.len;
        }
        if start < pieces.len() {
            batches.push(start..pieces.len());
        }
        Plan { pieces, batches }
    }

    /// Reads one batch into `buf` (at least `BATCH_BYTES + 1` long); returns the bytes read.
    fn read(
        &self,
        files: &[SnapshotFile],
        batch: Range<usize>,
        buf: &mut [u8],
    ) -> Result<usize, SnapshotError> {
        let mut pos = 0;
        for piece in &self.pieces[batch] {
            let file = &files[piece.file];
            let read_error = |e| SnapshotError::io("read", &file.path, e);
            let mut handle = File::open(&file.path).map_err(read_error)?;
            if piece.offset > 0 {
                handle
                    .seek(SeekFrom::Start(piece.offset))
                    .map_err(read_error)?;
            }
            // One byte more than expected on the last piece: finding it means the file grew.
            let want = piece.len + usize::from(piece.last);
            let got =
                read_full(&mut handle, &mut buf[pos..pos + want], piece.len).map_err(read_error)?;
            if got != piece.len {
                return Err(SnapshotError::Changed {
                    path: file.path.clone(),
                    expected: file.size,
                    found: if got > piece.len {
                        "now larger".into()
                    } else {
                        format!("now {} bytes", piece.offset + got as u64)
                    },
                });
            }
            pos += piece.len;
        }
        Ok(pos)
    }
}

/// Reads until `buf` is full or the file ends; returns the bytes read.
///
/// A read that stops exactly at `expected` (one byte short of a `buf` holding one spare byte)
/// is taken as the end of the file without asking again: a regular file reads short only at
/// its end, and the bytes needed are all there either way.
fn read_full(file: &mut File, buf: &mut [u8], expected: usize) -> io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match file.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => {
                got += n;
                if got == expected && buf.len() == expected + 1 {
                    break;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

type Batch = Result<(Vec<u8>, usize), SnapshotError>;

/// How a reader thread reads its batches: through its own io_uring where the kernel offers one
/// (Linux; `AZUREML_IO_URING=off` turns it off), else with a system call per open, read and
/// close.
struct BatchReader {
    #[cfg(target_os = "linux")]
    ring: Option<super::uring::Ring>,
}

impl BatchReader {
    fn new() -> BatchReader {
        BatchReader {
            #[cfg(target_os = "linux")]
            ring: if std::env::var_os("AZUREML_IO_URING").is_some_and(|v| v == "off") {
                None
            } else {
                super::uring::Ring::new()
            },
        }
    }

    fn read(
        &mut self,
        files: &[SnapshotFile],
        plan: &Plan,
        batch: Range<usize>,
        buf: &mut Vec<u8>,
    ) -> Result<usize, SnapshotError> {
        #[cfg(target_os = "linux")]
        if let Some(ring) = &mut self.ring {
            use super::uring::Outcome;
            match ring.read(files, &plan.pieces[batch.clone()], buf) {
                Outcome::Read(len) => return Ok(len),
                Outcome::Broken => self.ring = None,
                Outcome::Plain => {
                    let plain = plan.read(files, batch, buf);
                    if plain.is_ok() {
                        // The ring failed where plain reads do not: do not use it again.
                        self.ring = None;
                    }
                    return plain;
                }
            }
        }
        plan.read(files, batch, buf)
    }
}

/// State the reader threads and the hashing thread share.
struct Shared<'a> {
    files: &'a [SnapshotFile],
    plan: &'a Plan,
    /// The next batch a reader should take.
    next: AtomicUsize,
    /// Batches hashed so far; a reader [`WINDOW`] batches ahead of it waits.
    hashed: AtomicUsize,
    /// The smallest `hashed` a waiting reader waits for (`usize::MAX`: none waits). A reader
    /// waits until half the window is free, so the hashing thread wakes it once per
    /// `WINDOW / 2` batches instead of once per batch (each wake-up is a system call, and an
    /// interrupt to the other core).
    wake_at: AtomicUsize,
    gate: Mutex<()>,
    progressed: Condvar,
    stop: AtomicBool,
}

/// What a reader sends the hashing thread: the batch's index, the reader's, and the batch.
type Message = (usize, usize, Batch);

fn pipelined(
    files: &[SnapshotFile],
    plan: &Plan,
    readers: usize,
    hasher: &mut Sha256,
) -> Result<(), SnapshotError> {
    let shared = Shared {
        files,
        plan,
        next: AtomicUsize::new(0),
        hashed: AtomicUsize::new(0),
        wake_at: AtomicUsize::new(usize::MAX),
        gate: Mutex::new(()),
        progressed: Condvar::new(),
        stop: AtomicBool::new(false),
    };
    thread::scope(|scope| {
        let (tx, rx) = mpsc::channel::<Message>();
        // Each reader gets its hashed buffers back on its own channel: no lock between them.
        let mut returns = Vec::with_capacity(readers);
        for id in 0..readers {
            let tx = tx.clone();
            let (give_back, buffers) = mpsc::channel();
            returns.push(give_back);
            let shared = &shared;
            scope.spawn(move || read_ahead(shared, id, &tx, &buffers));
        }
        drop(tx);
        // The header while the readers start on the first batches.
        hasher.update(header(files).as_bytes());
        let result = hash_in_order(&shared, &rx, &returns, hasher);
        shared.stop.store(true, Ordering::SeqCst);
        let _gate = lock(&shared.gate);
        shared.progressed.notify_all();
        result
    })
}

fn read_ahead(
    shared: &Shared<'_>,
    id: usize,
    tx: &mpsc::Sender<Message>,
    buffers: &mpsc::Receiver<Vec<u8>>,
) {
    let mut reader = BatchReader::new();
    let count = shared.plan.batches.len();
    loop {
        let index = shared.next.fetch_add(1, Ordering::Relaxed);
        if index >= count {
            return;
        }
        if index >= shared.hashed.load(Ordering::SeqCst) + WINDOW {
            wait_for_room(shared, index);
        }
        if shared.stop.load(Ordering::SeqCst) {
            return;
        }
        let mut buf = buffers
            .try_recv()
            .unwrap_or_else(|_| vec![0; BATCH_BYTES + 1]);
        let batch = shared.plan.batches[index].clone();
        let result = reader
            .read(shared.files, shared.plan, batch, &mut buf)
            .map(|len| (buf, len));
        if tx.send((index, id, result)).is_err() {
            return;
        }
    }
}

/// Waits until batch `index` is at most `WINDOW / 2` batches ahead of the hashing thread (or
/// the hash stopped).
fn wait_for_room(shared: &Shared<'_>, index: usize) {
    let target = index + 1 - WINDOW / 2;
    let ready =
        || shared.stop.load(Ordering::SeqCst) || shared.hashed.load(Ordering::SeqCst) >= target;
    let mut gate = lock(&shared.gate);
    while !ready() {
        shared.wake_at.fetch_min(target, Ordering::SeqCst);
        // Checked again after publishing the target: the hashing thread may have moved on
        // just before seeing it.
        if ready() {
            break;
        }
        gate = shared
            .progressed
            .wait(gate)
            .unwrap_or_else(|e| e.into_inner());
    }
}

fn hash_in_order(
    shared: &Shared<'_>,
    rx: &mpsc::Receiver<Message>,
    returns: &[mpsc::Sender<Vec<u8>>],
    hasher: &mut Sha256,
) -> Result<(), SnapshotError> {
    let mut ring: Vec<Option<(usize, Batch)>> = (0..WINDOW).map(|_| None).collect();
    for expected in 0..shared.plan.batches.len() {
        let slot = expected % WINDOW;
        while ring[slot].is_none() {
            let (index, reader, batch) = receive(rx).map_err(|_| {
                SnapshotError::io(
                    "read",
                    shared
                        .files
                        .first()
                        .map(|f| f.path.as_path())
                        .unwrap_or_else(|| ".".as_ref()),
                    io::Error::other("the file readers stopped early"),
                )
            })?;
            ring[index % WINDOW] = Some((reader, batch));
        }
        let (reader, batch) = ring[slot].take().expect("slot filled above");
        let (buf, len) = batch?;
        hasher.update(&buf[..len]);
        // A reader that has finished no longer takes buffers back.
        let _ = returns[reader].send(buf);
        let hashed = expected + 1;
        shared.hashed.store(hashed, Ordering::SeqCst);
        if hashed >= shared.wake_at.load(Ordering::SeqCst) {
            shared.wake_at.store(usize::MAX, Ordering::SeqCst);
            let _gate = lock(&shared.gate);
            shared.progressed.notify_all();
        }
    }
    Ok(())
}

/// The next message, waiting for it first by spinning: the hashing thread has nothing else
/// to do, and a reader is usually microseconds away from sending. Going to sleep at once would
/// cost a system call and an interrupt to wake this core, hundreds of times per hash.
fn receive(rx: &mpsc::Receiver<Message>) -> Result<Message, mpsc::RecvError> {
    let start = Instant::now();
    loop {
        for _ in 0..64 {
            match rx.try_recv() {
                Ok(message) => return Ok(message),
                Err(mpsc::TryRecvError::Disconnected) => return Err(mpsc::RecvError),
                Err(mpsc::TryRecvError::Empty) => std::hint::spin_loop(),
            }
        }
        if start.elapsed() > SPIN {
            return rx.recv();
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn file(size: u64) -> SnapshotFile {
        SnapshotFile {
            relative: String::new(),
            path: PathBuf::new(),
            size,
        }
    }

    #[test]
    fn plan_splits_big_files_and_groups_small_ones() {
        let big = BATCH_BYTES as u64 * 2 + 10;
        let files = [
            file(0),
            file(10),
            file(big),
            file(BATCH_BYTES as u64),
            file(3),
        ];
        let plan = Plan::new(&files);
        let lens: Vec<_> = plan
            .pieces
            .iter()
            .map(|p| (p.file, p.len, p.last))
            .collect();
        assert_eq!(
            lens,
            [
                (0, 0, true),
                (1, 10, true),
                (2, BATCH_BYTES, false),
                (2, BATCH_BYTES, false),
                (2, 10, true),
                (3, BATCH_BYTES, true),
                (4, 3, true),
            ]
        );
        assert_eq!(plan.batches, [0..2, 2..3, 3..4, 4..5, 5..6, 6..7]);
        for batch in &plan.batches {
            let bytes: usize = plan.pieces[batch.clone()].iter().map(|p| p.len).sum();
            assert!(bytes <= BATCH_BYTES);
        }
    }

    #[test]
    fn header_is_count_then_name_and_size() {
        let mut a = file(5);
        a.relative = "a/b.txt".into();
        let mut e = file(0);
        e.relative = "É".into();
        assert_eq!(header(&[a, e]), "2#a/b.txt#5#É#0");
    }
}
