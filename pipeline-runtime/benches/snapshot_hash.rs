//! Content hash of a 20,000-file / 200 MB source tree, warm page cache.
//!
//! `cargo bench -p azureml-pipelines-runtime --bench snapshot_hash` generates the tree once (under
//! `$CARGO_TARGET_DIR`, else the system temp folder), warms the cache, then prints the median and
//! fastest wall time of `Snapshot::scan` alone, `content_hash` alone and both together, both
//! again with the hash cache holding the unchanged tree's hash, the raw
//! SHA-256 speed of this CPU for comparison, and the hash. Built with `--profile dev`, the same
//! bench gives the figures of a user's debug build (`cargo run`). To time Microsoft's Python SDK on the
//! same tree in the same run, set `AZUREML_BENCH_SDK_PYTHON` to a Python that has
//! `azure-ai-ml==1.35.2` installed: the bench then runs `tests/snapshot_hash_reference.py` three
//! times and prints its median beside ours.

use std::fs;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use azureml_pipelines_runtime::snapshot::Snapshot;

const FILES: usize = 20_000;
const TOP_DIRS: usize = 20;
const SUB_DIRS: usize = 10;
const BIG_FILES: usize = 100;
const BIG_SIZE: usize = 1_000_000;
const TARGET_BYTES: usize = 200_000_000;
const RUNS: usize = 15;
/// What azure-ai-ml 1.35.2's `get_content_hash` gives the generated tree
/// (`tests/snapshot_hash_reference.py <tree>`; it took 1146 ms there on the 2-core machine these
/// figures were taken on).
const SDK_CONTENT_HASH: &str = "38819b553ace1350d51b8a5dfbdd8e30622878b71a0e19172db4fd420e9c5093";
/// The bar for scan + content hash, warm page cache.
const BAR: Duration = Duration::from_millis(150);

fn main() {
    let tree = tree_dir();
    generate(&tree);
    println!("tree: {}", tree.display());

    let snapshot = Snapshot::scan(&tree).expect("scan");
    let hash = snapshot.content_hash().expect("hash");
    let bytes = snapshot.total_size();
    println!(
        "{} files, {:.1} MB, content hash {hash}",
        snapshot.files().len(),
        bytes as f64 / 1e6
    );

    report("scan", bytes, time(|| Snapshot::scan(&tree).expect("scan")));
    report(
        "content_hash",
        bytes,
        time(|| snapshot.content_hash().expect("hash")),
    );
    let both = time(|| {
        let s = Snapshot::scan(&tree).expect("scan");
        assert_eq!(s.content_hash().expect("hash"), hash);
    });
    let mut walls = both.0.clone();
    walls.sort();
    let median = walls[walls.len() / 2];
    report("scan + content_hash", bytes, both);
    // The hash cache (a stamp of every file's path, size, times and inode): an unchanged tree
    // is not read again. Generated files are older than its settle time by now.
    let cache = tempfile_dir();
    let cached = Snapshot::scan(&tree)
        .expect("scan")
        .content_hash_in(Some(&cache))
        .expect("hash");
    assert_eq!(cached, hash);
    let hit = time(|| {
        let s = Snapshot::scan(&tree).expect("scan");
        assert_eq!(s.content_hash_in(Some(&cache)).expect("hash"), hash);
    });
    let mut hits = hit.0.clone();
    hits.sort();
    let hit_median = hits[hits.len() / 2];
    report("scan + content_hash_cached (unchanged)", bytes, hit);
    let _ = fs::remove_dir_all(&cache);
    println!(
        "the same hash as azure-ai-ml 1.35.2: {}",
        if hash == SDK_CONTENT_HASH {
            "yes"
        } else {
            "NO"
        }
    );
    println!(
        "scan + content_hash median {:.1} ms (bar: <= {} ms; azure-ai-ml ~1146 ms here): {}",
        median.as_secs_f64() * 1e3,
        BAR.as_millis(),
        if median <= BAR { "PASS" } else { "OVER" }
    );
    println!(
        "unchanged tree, hash cache hit: median {:.1} ms (bar: <= {} ms): {}",
        hit_median.as_secs_f64() * 1e3,
        BAR.as_millis(),
        if hit_median <= BAR { "PASS" } else { "OVER" }
    );

    if let Some(python) = std::env::var_os("AZUREML_BENCH_SDK_PYTHON").filter(|p| !p.is_empty()) {
        sdk_comparison(&python, &tree, &hash, median);
    }

    let block = vec![0x5au8; 64 << 20];
    report(
        "sha256 of 64 MB in memory (the floor; ring, as the content hash uses)",
        block.len() as u64,
        time(|| ring::digest::digest(&ring::digest::SHA256, &block)),
    );
}

/// Runs the SDK's `get_content_hash` on the tree three times (one process each) and prints the
/// median next to ours.
fn sdk_comparison(python: &std::ffi::OsStr, tree: &Path, hash: &str, ours: Duration) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshot_hash_reference.py");
    let mut times = Vec::new();
    for _ in 0..3 {
        let out = std::process::Command::new(python)
            .arg(&script)
            .arg(tree)
            .output()
            .expect("run the SDK reference script");
        let text = String::from_utf8_lossy(&out.stdout);
        let line = text
            .lines()
            .find(|l| l.trim_start().starts_with("content_hash"))
            .unwrap_or_else(|| panic!("no content_hash line from the SDK script: {text}"));
        assert!(line.contains(hash), "the SDK gives another hash: {line}");
        let ms: f64 = line
            .rsplit_once('(')
            .and_then(|(_, t)| t.trim_end_matches(" ms)").parse().ok())
            .unwrap_or_else(|| panic!("unreadable SDK time: {line}"));
        times.push(ms);
    }
    times.sort_by(f64::total_cmp);
    println!(
        "azure-ai-ml get_content_hash, same tree, this run: median {:.0} ms (3 runs); ours {:.1} ms, {:.1}x faster",
        times[1],
        ours.as_secs_f64() * 1e3,
        times[1] / (ours.as_secs_f64() * 1e3)
    );
}

fn tempfile_dir() -> PathBuf {
    std::env::temp_dir().join(format!("snapshot-bench-cache-{}", std::process::id()))
}

fn tree_dir() -> PathBuf {
    let base = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    base.join("snapshot-bench-tree")
}

/// 20 x 10 folders of 100 files: 100 files of 1 MB, the rest small (a few kB, varied), mixed
/// case names, and an `.amlignore` that excludes nothing present (so every file is matched).
fn generate(tree: &Path) {
    let done = tree.with_extension("done");
    let spec = format!("{FILES} {BIG_FILES} {BIG_SIZE} {TARGET_BYTES} v1");
    if fs::read_to_string(&done).is_ok_and(|s| s == spec) {
        return;
    }
    eprintln!("generating {} ...", tree.display());
    let _ = fs::remove_dir_all(tree);
    fs::create_dir_all(tree).expect("create tree");
    fs::write(
        tree.join(".amlignore"),
        "__pycache__/\n*.pyc\n.ipynb_checkpoints\n",
    )
    .expect("write");

    let small_files = FILES - 1 - BIG_FILES;
    let small_avg = (TARGET_BYTES - BIG_FILES * BIG_SIZE) / small_files;
    let mut rng = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let mut content = vec![0u8; BIG_SIZE];
    for chunk in content.chunks_mut(8) {
        let r = next().to_le_bytes();
        chunk.copy_from_slice(&r[..chunk.len()]);
    }

    let per_dir = (FILES - 1).div_ceil(TOP_DIRS * SUB_DIRS);
    let mut written = 0;
    for n in 0..FILES - 1 {
        let d = n / per_dir;
        let dir = tree
            .join(format!("Pkg{:02}", d / SUB_DIRS))
            .join(format!("mod_{:02}", d % SUB_DIRS));
        if n % per_dir == 0 {
            fs::create_dir_all(&dir).expect("create dir");
        }
        let size = if n % (FILES / BIG_FILES) == 0 {
            BIG_SIZE
        } else {
            // Uniform in [avg/2, 3*avg/2).
            small_avg / 2 + (next() as usize % small_avg)
        };
        let name = match n % 3 {
            0 => format!("File_{n:05}.py"),
            1 => format!("file_{n:05}.txt"),
            _ => format!("_data{n:05}.bin"),
        };
        let offset = next() as usize % (BIG_SIZE - size.min(BIG_SIZE - 1));
        fs::write(dir.join(name), &content[offset..offset + size]).expect("write file");
        written += size;
    }
    eprintln!("wrote {:.1} MB", written as f64 / 1e6);
    fs::write(done, spec).expect("write marker");
}

/// Wall times of `RUNS` runs after one warm-up, and the mean CPU time per run (all threads).
fn time<T>(mut f: impl FnMut() -> T) -> (Vec<Duration>, Option<Duration>) {
    black_box(f());
    let cpu_before = cpu_time();
    let walls = (0..RUNS)
        .map(|_| {
            let start = Instant::now();
            black_box(f());
            start.elapsed()
        })
        .collect();
    let cpu = cpu_time()
        .zip(cpu_before)
        .map(|(after, before)| (after - before) / RUNS as u32);
    (walls, cpu)
}

/// User + system time of this process so far (Linux; clock ticks of 10 ms).
fn cpu_time() -> Option<Duration> {
    let stat = fs::read_to_string("/proc/self/stat").ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10))
}

fn report(what: &str, bytes: u64, (mut times, cpu): (Vec<Duration>, Option<Duration>)) {
    times.sort();
    let median = times[times.len() / 2];
    let min = times[0];
    let cpu = cpu.map_or("?".to_string(), |c| {
        format!("{:.0} ms", c.as_secs_f64() * 1e3)
    });
    println!(
        "{what:<40} median {:>7.1} ms  min {:>7.1} ms  {:>6.0} MB/s (median)  cpu/run {cpu}",
        median.as_secs_f64() * 1e3,
        min.as_secs_f64() * 1e3,
        bytes as f64 / 1e6 / median.as_secs_f64()
    );
}
