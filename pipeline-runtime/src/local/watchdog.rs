//! Stops every step process, grandchildren included, when the process running a pipeline dies
//! without a chance to clean up (SIGKILL, a crash).
//!
//! Each step runs in its own process group. The parent-death signal set on a step kills only
//! the step's shell; what the shell started (`python`, a `sleep`) would live on. So each run has
//! a watchdog: a small `/bin/sh` in a process group of its own, reading the ids of the step
//! groups that are running from a pipe. When the pipe closes (the runner is gone, or the run
//! ended), it kills the groups still listed. A step process puts its own group on the list
//! before it starts the step's command ([`Watchdog::enlist_self`], between `fork` and `exec`),
//! so nothing it starts escapes; the runner takes the group off the list as soon as the step
//! ends, so a group id reused later by an unrelated process is never signalled.

use std::io::Write;
use std::os::fd::{AsRawFd, RawFd};
use std::process::{Child, Command, Stdio};

const SCRIPT: &str = r#"trap '' HUP INT QUIT TERM
gs=
while read -r op g; do
  case $op in
    +) gs="$gs $g" ;;
    -) n=; for x in $gs; do [ "$x" = "$g" ] || n="$n $x"; done; gs=$n ;;
  esac
done
for g in $gs; do kill -s KILL -- "-$g" 2>/dev/null; done
"#;

/// The watchdog of one run.
pub(crate) struct Watchdog {
    child: Child,
    /// The write end of the pipe: open while the watchdog lives (its descriptor is written to
    /// by step processes before `exec`), closed on exec so no step process keeps it.
    list: Option<std::io::PipeWriter>,
}

impl Watchdog {
    /// Starts the watchdog; `None` if it cannot be started (steps are then stopped by the
    /// parent-death signal alone).
    pub(crate) fn start() -> Option<Watchdog> {
        use std::os::unix::process::CommandExt;
        let (read, write) = std::io::pipe().ok()?;
        let child = Command::new("/bin/sh")
            .arg("-c")
            .arg(SCRIPT)
            .stdin(Stdio::from(read))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            // Out of the terminal's process group: a Ctrl-C meant for the runner spares it.
            .process_group(0)
            .spawn()
            .ok()?;
        Some(Watchdog {
            child,
            list: Some(write),
        })
    }

    /// The descriptor a step process passes to [`Watchdog::enlist_self`]; valid while `self`
    /// lives.
    pub(crate) fn fd(&self) -> Option<RawFd> {
        self.list.as_ref().map(AsRawFd::as_raw_fd)
    }

    /// Puts the calling process's group (its pid: it leads its own group) on the list of the
    /// watchdog whose descriptor is `fd`. Called in a forked child before `exec`: it only uses
    /// async-signal-safe calls and allocates nothing. One short `write` to a pipe is atomic.
    pub(crate) fn enlist_self(fd: RawFd) {
        // SAFETY: `getpid` has no preconditions.
        let pid = unsafe { libc::getpid() };
        let mut line = [0u8; 24];
        line[0] = b'+';
        line[1] = b' ';
        let mut digits = [0u8; 20];
        let mut n = 0;
        let mut v = u64::try_from(pid).unwrap_or(0);
        loop {
            digits[n] = b'0' + (v % 10) as u8;
            n += 1;
            v /= 10;
            if v == 0 {
                break;
            }
        }
        for i in 0..n {
            line[2 + i] = digits[n - 1 - i];
        }
        line[2 + n] = b'\n';
        // SAFETY: writes `3 + n` initialised bytes from a stack buffer to a descriptor the
        // parent keeps open until after the `exec` (or the failed spawn) of this child.
        unsafe {
            libc::write(fd, line.as_ptr().cast(), 3 + n);
        }
    }

    /// Takes a step's process group off the list (its step ended).
    pub(crate) fn forget(&self, group: u32) {
        if let Some(mut w) = self.list.as_ref() {
            // If the watchdog is gone, there is nothing more to tell it.
            let _ = w.write_all(format!("- {group}\n").as_bytes());
        }
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        self.list.take();
        let _ = self.child.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alive(pid: u32) -> bool {
        match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            Ok(stat) => !stat
                .rsplit(')')
                .next()
                .is_some_and(|rest| rest.trim_start().starts_with('Z')),
            Err(_) => false,
        }
    }

    fn group(dog: &Watchdog, cmd: &str) -> Child {
        use std::os::unix::process::CommandExt;
        let fd = dog.fd().unwrap();
        let mut c = Command::new("/bin/sh");
        c.args(["-c", cmd]).process_group(0).stdout(Stdio::piped());
        // SAFETY: `enlist_self` is async-signal-safe.
        unsafe {
            c.pre_exec(move || {
                Watchdog::enlist_self(fd);
                Ok(())
            });
        }
        c.spawn().unwrap()
    }

    fn grandchild(c: &mut Child) -> u32 {
        use std::io::BufRead;
        let mut line = String::new();
        std::io::BufReader::new(c.stdout.as_mut().unwrap())
            .read_line(&mut line)
            .unwrap();
        line.trim().parse().unwrap()
    }

    #[test]
    fn listed_groups_are_killed_when_the_list_closes_and_forgotten_ones_are_not() {
        let dog = Watchdog::start().expect("watchdog");
        let mut watched = group(&dog, "sleep 30 & echo $!; wait");
        let mut forgotten = group(&dog, "sleep 30 & echo $!; wait");
        let (w, f) = (grandchild(&mut watched), grandchild(&mut forgotten));
        dog.forget(forgotten.id());
        drop(dog);
        let _ = watched.wait();
        let t = std::time::Instant::now();
        while alive(w) && t.elapsed() < std::time::Duration::from_secs(5) {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert!(!alive(w), "the watched group's grandchild still runs");
        assert!(alive(f), "a forgotten group was killed");
        // SAFETY: kills the test's own process group.
        unsafe {
            libc::kill(-(forgotten.id() as i32), libc::SIGKILL);
        }
        let _ = forgotten.wait();
    }
}
