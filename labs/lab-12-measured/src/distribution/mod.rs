//! Chapter 12, beyond one machine: threads cannot leave their machine, processes can.
//!
//! A [`Site`] is a small network on one Linux box: two or three *hosts*, each a network
//! namespace joined to the root namespace by a veth cable and running chapter 7's cluster,
//! and nginx in the root namespace balancing requests over them. Building it needs root.
//!
//! - [`host`]: one host (namespace, cable, addresses, the cluster inside) and the killing
//!   of a process tree.
//! - [`nginx`]: the generated configuration and the nginx process.
//! - [`load`]: a keep-alive load generator that records who answered each request.
//!
//! The [`Site`] is a guard: dropping it (also while a panic unwinds) kills nginx and every
//! cluster, reaps them, deletes the cables and namespaces, and removes nginx's directory.

pub mod host;
pub mod load;
pub mod nginx;

use std::ffi::OsString;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use nix::sys::prctl;

pub use host::Host;
pub use load::{Load, Request};
pub use nginx::Nginx;

/// What to build.
#[derive(Debug, Clone)]
pub struct Options {
    /// How many hosts (namespaces, each with a cluster).
    pub hosts: usize,
    /// Workers in each host's cluster.
    pub workers: usize,
    /// The program each host runs, with its arguments: lab-07's cluster, or a program
    /// that becomes it. The host adds `--addr=0.0.0.0:8080`, and waits for its `ready`
    /// line.
    pub server: Vec<OsString>,
    /// Whether nginx sends a request that failed on one host to the next one
    /// (`proxy_next_upstream error timeout`, the default) or not (`off`).
    pub retry: bool,
}

/// Whether this machine can build a [`Site`]: root, `ip` and `nginx`. The error is one
/// line saying what is missing.
pub fn preflight() -> Result<(), String> {
    if !nix::unistd::geteuid().is_root() {
        return Err("needs root (network namespaces)".into());
    }
    if host::ip(&["-V"]).is_err() {
        return Err("needs `ip` from iproute2 on PATH (network namespaces)".into());
    }
    if nginx::version().is_none() {
        return Err("needs nginx on PATH (Debian: apt-get install nginx)".into());
    }
    Ok(())
}

/// Sites built by this process so far: part of every name, so that two sites in one
/// process (tests run in parallel) never share one.
static SITES: AtomicU32 = AtomicU32::new(0);

/// The hosts and nginx in front of them; everything is torn down on drop.
#[derive(Debug)]
pub struct Site {
    nginx: Option<Nginx>,
    hosts: Vec<Host>,
    /// nginx's prefix: configuration, logs, pid file, temp directories.
    dir: tempfile::TempDir,
    retry: bool,
}

impl Site {
    /// Build the hosts, start a cluster in each, then nginx in front of them.
    pub fn start(opts: &Options) -> io::Result<Site> {
        // A killed worker's orphans come to us, not to init, so we can reap them.
        prctl::set_child_subreaper(true)?;
        let dir = tempfile::Builder::new().prefix("lab12-nginx-").tempdir()?;
        let mut site = Site {
            nginx: None,
            hosts: Vec::new(),
            dir,
            retry: opts.retry,
        };
        let (pid, run) = (std::process::id(), SITES.fetch_add(1, Ordering::Relaxed));
        for n in 1..=opts.hosts {
            site.hosts
                .push(Host::create(&format!("lab12-{pid}-{run}-h{n}"))?);
        }
        let (program, args) = opts
            .server
            .split_first()
            .ok_or_else(|| io::Error::other("no server program"))?;
        let mut args: Vec<String> = args
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        args.push(format!("--workers={}", opts.workers));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        for host in &mut site.hosts {
            host.serve(program, &args)?;
        }
        let endpoints: Vec<_> = site.hosts.iter().map(Host::endpoint).collect();
        site.nginx = Some(Nginx::start(site.dir.path(), &endpoints, opts.retry)?);
        Ok(site)
    }

    /// Where nginx listens (127.0.0.1 in the root namespace).
    pub fn addr(&self) -> SocketAddr {
        self.nginx().addr()
    }

    fn nginx(&self) -> &Nginx {
        self.nginx.as_ref().expect("nginx runs from start to drop")
    }

    pub fn hosts(&self) -> &[Host] {
        &self.hosts
    }

    /// Another nginx, configured like the site's, in front of some of its hosts only (by
    /// index into [`Site::hosts`]), with its own directory inside the site's. Drop it
    /// before the site.
    pub fn nginx_for(&self, hosts: &[usize]) -> io::Result<Nginx> {
        let names: Vec<String> = hosts.iter().map(|i| format!("h{}", i + 1)).collect();
        let dir = self.dir.path().join(format!("nginx-{}", names.join("-")));
        std::fs::create_dir_all(&dir)?;
        let endpoints: Vec<_> = hosts.iter().map(|i| self.hosts[*i].endpoint()).collect();
        Nginx::start(&dir, &endpoints, self.retry)
    }

    /// nginx's directory (its `-p` prefix): configuration, logs, pid file.
    pub fn nginx_dir(&self) -> &std::path::Path {
        self.dir.path()
    }

    /// The namespaces' names, as `ip netns list` shows them.
    pub fn netns_names(&self) -> Vec<String> {
        self.hosts.iter().map(|h| h.netns.clone()).collect()
    }

    /// Which host (index into [`Site::hosts`]) a worker pid belongs to.
    pub fn host_of(&self, worker: u32) -> Option<usize> {
        self.hosts
            .iter()
            .position(|h| h.workers().contains(&worker))
    }

    /// Kill host `i`'s cluster (master and workers) at once: the namespace, its cable
    /// and its address stay, but nothing listens there any more, so a connection to it
    /// is refused. Returns the master's log.
    pub fn kill_host(&mut self, i: usize) -> Vec<String> {
        self.hosts[i].kill()
    }

    /// Requests that nginx passed to more than one host (from its access log).
    pub fn retried(&self) -> Vec<String> {
        self.nginx().retried()
    }

    /// nginx's error log so far.
    pub fn nginx_error_log(&self) -> String {
        self.nginx().error_log()
    }

    /// How many successful requests each host answered (index as in [`Site::hosts`]).
    pub fn served_per_host(&self, requests: &[Request]) -> Vec<u64> {
        let mut counts = vec![0; self.hosts.len()];
        for r in requests {
            if let Some(h) = r.worker.and_then(|w| self.host_of(w)) {
                counts[h] += 1;
            }
        }
        counts
    }
}

// ANCHOR: drop
impl Drop for Site {
    fn drop(&mut self) {
        // nginx first, so that nothing sends to the hosts while they go.
        drop(self.nginx.take());
        // Each host kills and reaps its cluster, then deletes its cable and namespace.
        while let Some(host) = self.hosts.pop() {
            drop(host);
        }
        // Then `self.dir` (a TempDir) removes nginx's configuration and logs.
    }
}
// ANCHOR_END: drop

/// What happened to the requests around the moment a host was killed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KillOutcome {
    /// Requests answered before the kill began, and those that failed then.
    pub ok_before: u64,
    pub failed_before: u64,
    /// Requests in flight while the host was being killed (sent before the kill was over,
    /// answered after it began) that failed.
    pub failed_in_flight: u64,
    /// Requests sent after the kill was over: answered, failed.
    pub ok_after: u64,
    pub failed_after: u64,
    /// Of the requests sent after the kill, those answered by a worker of the dead host
    /// (0, unless something is very wrong).
    pub answered_by_dead_host: u64,
}

impl KillOutcome {
    /// Sort `requests` around a kill that began at `began` and was over (every process of
    /// the host reaped) at `over`, on the load's clock.
    pub fn of(requests: &[Request], began: Duration, over: Duration, dead: &[u32]) -> Self {
        let mut k = KillOutcome::default();
        for r in requests {
            if r.start >= over {
                match r.worker {
                    Some(w) if dead.contains(&w) => k.answered_by_dead_host += 1,
                    Some(_) => k.ok_after += 1,
                    None => k.failed_after += 1,
                }
            } else if r.end < began {
                if r.ok() {
                    k.ok_before += 1
                } else {
                    k.failed_before += 1
                }
            } else if !r.ok() {
                k.failed_in_flight += 1;
            }
        }
        k
    }
}
