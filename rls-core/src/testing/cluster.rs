//! The PostgreSQL server the tests of one process share.
//!
//! * If `DATABASE_URL` is set, that server is used (its user needs CREATEDB and CREATEROLE; the
//!   databases the harness creates there are not dropped).
//! * Otherwise a throwaway cluster is created with `initdb` in a fresh temporary directory and
//!   started on a free port of 127.0.0.1. It is stopped, and the directory removed, when the
//!   test process exits, however it exits (see [`GUARDIAN_SCRIPT`]).
//!
//! When running as root (initdb and postgres refuse to), the cluster is run as the `postgres`
//! user through `runuser` (or `su`).

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use sqlx::{Connection, PgConnection};

const NO_POSTGRES: &str = "PostgreSQL tests need either DATABASE_URL=postgres://... or the \
     PostgreSQL server binaries (initdb, pg_ctl, postgres) on PATH or under `pg_config --bindir`; \
     in a clone of pgrls run `scripts/test`, which installs them (as root, or prints the \
     commands); elsewhere, on Debian/Ubuntu: sudo apt-get install postgresql";

/// The user that owns the throwaway cluster when the tests run as root, and the
/// name of the cluster's superuser (`initdb -U postgres`).
const PG_USER: &str = "postgres";

/// How long to wait for the server to accept connections.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(30);

/// URL of the `postgres` maintenance database of the cluster (starting the cluster on first
/// use).
pub fn admin_url() -> String {
    with_database(&cluster().base_url, "postgres")
}

/// What the throwaway cluster's server said last (its log's last lines) and how much room
/// is left on its disk: appended to the harness's failures, since a server that crashed or
/// ran out of disk shows only as a closed connection to the client. Empty with
/// `DATABASE_URL`.
pub(super) fn server_state() -> String {
    let Some(log) = CLUSTER
        .get()
        .and_then(|c| c.as_ref().ok())
        .and_then(|c| c.log.as_ref())
    else {
        return String::new();
    };
    let text = fs::read_to_string(log).unwrap_or_else(|e| format!("(unreadable: {e})"));
    let lines: Vec<&str> = text.lines().collect();
    let tail = lines[lines.len().saturating_sub(30)..].join("\n");
    let disk = Command::new("df")
        .arg("-h")
        .arg(log.parent().unwrap_or(log))
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_else(|e| format!("(df: {e})"));
    format!(
        "\n--- {} (last 30 lines) ---\n{tail}\n--- end of log ---\n{disk}",
        log.display()
    )
}

/// URL of database `name` on the cluster.
pub(super) fn database_url(name: &str) -> String {
    with_database(&cluster().base_url, name)
}

/// The cluster's host and port, for what the harness puts in front of it or beside it.
pub(super) fn server_address() -> (String, u16) {
    let options: sqlx::postgres::PgConnectOptions = cluster()
        .base_url
        .parse()
        .unwrap_or_else(|e| panic!("the cluster's URL: {e}"));
    (options.get_host().to_owned(), options.get_port())
}

/// The directory of the server binaries on this machine (`initdb`'s, followed through
/// links, which also holds `pg_basebackup`), or why there are none.
pub(super) fn server_bindir() -> Result<PathBuf, String> {
    find_binaries()
        .and_then(|bins| {
            let initdb = bins.initdb.canonicalize().unwrap_or(bins.initdb);
            initdb.parent().map(Path::to_path_buf)
        })
        .ok_or_else(|| NO_POSTGRES.to_string())
}

// ---------------------------------------------------------------------------
// The shared cluster
// ---------------------------------------------------------------------------

struct Cluster {
    /// URL of some database on the cluster; [`with_database`] swaps the name.
    base_url: String,
    /// For a throwaway cluster: the guardian process. Its stdin pipe must stay
    /// open for as long as the test process lives, so it is kept here forever
    /// (statics are never dropped).
    _guardian: Option<Mutex<Child>>,
    /// For a throwaway cluster: its server log, quoted when a statement of the harness fails.
    log: Option<PathBuf>,
}

/// Start-up errors are remembered, so that every test fails with the same
/// message instead of each one trying to start a cluster again.
static CLUSTER: OnceLock<Result<Cluster, String>> = OnceLock::new();

fn cluster() -> &'static Cluster {
    match CLUSTER.get_or_init(start_cluster) {
        Ok(cluster) => cluster,
        Err(msg) => panic!("{msg}"),
    }
}

fn start_cluster() -> Result<Cluster, String> {
    if let Some(url) = std::env::var("DATABASE_URL")
        .ok()
        .filter(|url| !url.trim().is_empty())
    {
        return Ok(Cluster {
            base_url: url.trim().to_string(),
            _guardian: None,
            log: None,
        });
    }
    let bins = find_binaries().ok_or_else(|| NO_POSTGRES.to_string())?;
    start_throwaway(&bins)
}

/// Runs, as the cluster's owner, with stdin connected to a pipe that the test
/// process holds open for its whole life:
///
/// 1. `initdb`, then writes `ok`/`failed` to `$dir/init.status`;
/// 2. for each `start <port>` line read from stdin, `pg_ctl start -w` on that
///    port, then writes `ok`/`failed` to `$dir/start-<port>.status`;
/// 3. at end of input, i.e. when the test process has exited for whatever
///    reason (normal exit, panic, abort, SIGKILL), stops the server with a fast
///    shutdown and removes `$dir`.
///
/// The guardian runs in its own process group so that a Ctrl-C or a test
/// runner killing the test's process group does not kill it before it has
/// cleaned up; SIGHUP and SIGINT are ignored for the same reason.
const GUARDIAN_SCRIPT: &str = r#"
trap '' HUP INT
dir=$1 initdb=$2 pg_ctl=$3
data="$dir/data"
log="$dir/server.log"
if "$initdb" -D "$data" -U postgres --auth=trust -E UTF8 --no-locale --no-sync \
    >>"$log" 2>&1 </dev/null; then
  echo ok >"$dir/init.status"
else
  echo failed >"$dir/init.status"
fi
while read -r cmd port; do
  case $cmd in
    start)
      if "$pg_ctl" start -w -t 30 -D "$data" -l "$log" -o "-p $port" >>"$log" 2>&1 </dev/null; then
        echo ok >"$dir/start-$port.status"
      else
        "$pg_ctl" stop -D "$data" -m immediate >>"$log" 2>&1 </dev/null
        echo failed >"$dir/start-$port.status"
      fi
      ;;
  esac
done
if [ -f "$data/postmaster.pid" ]; then
  "$pg_ctl" stop -D "$data" -m fast -w -t 60 >/dev/null 2>&1 </dev/null ||
    "$pg_ctl" stop -D "$data" -m immediate -w -t 60 >/dev/null 2>&1 </dev/null
fi
rm -rf "$dir"
"#;

/// A process that cleans up after what it started once its stdin closes: the cluster's
/// guardian, and those of the pgbouncer and replica harnesses.
pub(super) struct Guardian {
    child: Child,
    dir: PathBuf,
    /// The log file in `dir` that failures quote.
    log: &'static str,
}

impl Guardian {
    /// Runs `script` (`sh -c`) as the cluster's owner, in a process group of its own so that
    /// a Ctrl-C does not kill it before it has cleaned up, with a fresh temporary directory
    /// that the owner owns as `$1` and `args` after it. `prepare` writes the directory's
    /// files first. Stdin is a pipe that [`Guardian::send`] writes lines to; the script must
    /// clean up (stop what it started, remove the directory) when it closes, which happens
    /// when the `Guardian` is dropped or the test process exits, however it exits.
    pub(super) fn spawn(
        name: &str,
        script: &str,
        args: &[String],
        log: &'static str,
        prepare: impl FnOnce(&Path) -> std::io::Result<()>,
    ) -> Result<Guardian, String> {
        let run_as = RunAs::detect()?;
        let dir = make_temp_dir(run_as.is_other_user())
            .map_err(|e| format!("could not create a temporary directory for {name}: {e}"))?;
        let spawned = File::create(dir.join(log)).and_then(|log_file| {
            prepare(&dir)?;
            if run_as.is_other_user() {
                let status = Command::new("chown")
                    .args(["-R", PG_USER])
                    .arg(&dir)
                    .status()?;
                if !status.success() {
                    return Err(std::io::Error::other(format!("chown -R {PG_USER} failed")));
                }
            }
            let mut argv = vec!["-c".to_string(), script.to_string(), name.to_string()];
            argv.push(path_str(&dir));
            argv.extend(args.iter().cloned());
            let mut cmd = run_as.command("/bin/sh", &argv);
            cmd.stdin(Stdio::piped())
                .stdout(Stdio::null())
                .stderr(log_file)
                .process_group(0);
            cmd.spawn()
        });
        match spawned {
            Ok(child) => Ok(Guardian { child, dir, log }),
            Err(e) => {
                let _ = fs::remove_dir_all(&dir);
                Err(format!("could not start {name} in {}: {e}", dir.display()))
            }
        }
    }

    pub(super) fn dir(&self) -> &Path {
        &self.dir
    }

    /// The log's last lines.
    pub(super) fn log_tail(&self) -> String {
        let log = fs::read_to_string(self.dir.join(self.log))
            .unwrap_or_else(|e| format!("(unreadable: {e})"));
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(60)..].join("\n")
    }

    /// Closes stdin and waits until the script has cleaned up.
    pub(super) fn stop(mut self) {
        self.close();
    }

    /// [`Guardian::stop`] for an owner that cannot give the guardian away (in `Drop`).
    pub(super) fn close(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }

    pub(super) fn send(&mut self, line: &str) -> Result<(), String> {
        let stdin = self.child.stdin.as_mut().expect("guardian stdin is piped");
        stdin
            .write_all(line.as_bytes())
            .and_then(|()| stdin.flush())
            .map_err(|e| self.failure(&format!("could not talk to the guardian process: {e}")))
    }

    /// Waits for the guardian to write `ok` or `failed` to `file`.
    pub(super) fn wait_status(
        &mut self,
        file: &str,
        what: &str,
        timeout: Duration,
    ) -> Result<(), String> {
        let path = self.dir.join(file);
        let deadline = Instant::now() + timeout;
        loop {
            match fs::read_to_string(&path).as_deref().map(str::trim) {
                Ok("ok") => return Ok(()),
                Ok("failed") => return Err(self.failure(&format!("{what} failed"))),
                _ => {}
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(self.failure(&format!(
                    "{what}: the guardian process exited unexpectedly ({status})"
                )));
            }
            if Instant::now() > deadline {
                return Err(self.failure(&format!("{what}: timed out after {timeout:?}")));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn failure(&self, what: &str) -> String {
        format!(
            "could not start a throwaway PostgreSQL cluster in {}: {what}\n\
             --- {} (last 60 lines) ---\n{}\n--- end of log ---\n\
             (set DATABASE_URL=postgres://... to use an existing server instead)",
            self.dir.display(),
            self.dir.join(self.log).display(),
            self.log_tail(),
        )
    }
}

fn start_throwaway(bins: &PgBins) -> Result<Cluster, String> {
    let (guardian, port) = spawn_server("rls-pg-guardian", bins, "")?;
    Ok(Cluster {
        base_url: server_url(port),
        log: Some(guardian.dir.join(guardian.log)),
        // Kept open forever: see GUARDIAN_SCRIPT.
        _guardian: Some(Mutex::new(guardian.child)),
    })
}

/// Another throwaway server like the shared cluster's, with `conf` appended to its
/// `postgresql.conf`, for harnesses of several servers (the Citus cluster): its port, and the
/// guardian that stops it and removes its directory when it is dropped or the process exits.
pub(super) fn start_server(name: &str, conf: &str) -> Result<(Guardian, u16), String> {
    let bins = find_binaries().ok_or_else(|| NO_POSTGRES.to_string())?;
    spawn_server(name, &bins, conf)
}

fn spawn_server(name: &str, bins: &PgBins, conf: &str) -> Result<(Guardian, u16), String> {
    let mut guardian = Guardian::spawn(
        name,
        GUARDIAN_SCRIPT,
        &[path_str(&bins.initdb), path_str(&bins.pg_ctl)],
        "server.log",
        |_| Ok(()),
    )?;
    match guardian.bring_up(conf) {
        Ok(port) => Ok((guardian, port)),
        Err(e) => {
            // The guardian stops whatever it started and removes the directory; wait so
            // that nothing is left behind.
            guardian.stop();
            Err(e)
        }
    }
}

/// URL of the `postgres` database of a throwaway server on `port`, as its superuser.
pub(super) fn server_url(port: u16) -> String {
    format!("postgres://{PG_USER}@127.0.0.1:{port}/postgres?sslmode=disable")
}

impl Guardian {
    /// Initializes the cluster and starts the server, with `conf` appended to the harness's
    /// settings (later lines win); returns its port.
    fn bring_up(&mut self, conf: &str) -> Result<u16, String> {
        self.wait_status("init.status", "initdb", Duration::from_secs(120))?;
        let socket_dir = path_str(&self.dir).replace('\'', "''");
        OpenOptions::new()
            .append(true)
            .open(self.dir.join("data/postgresql.conf"))
            .and_then(|mut file| {
                writeln!(
                    file,
                    "\n# Added by the pgrls test harness.\n\
                     listen_addresses = '127.0.0.1'\n\
                     unix_socket_directories = '{socket_dir}'\n\
                     max_connections = 200\n\
                     fsync = off\n\
                     synchronous_commit = off\n\
                     full_page_writes = off\n\
                     {conf}"
                )
            })
            .map_err(|e| self.failure(&format!("could not write postgresql.conf: {e}")))?;

        // The port can be taken by someone else between `free_port` and the
        // server binding it: retry with another one.
        let mut last_error = String::new();
        for _attempt in 0..5 {
            let port = free_port().map_err(|e| format!("could not find a free TCP port: {e}"))?;
            self.send(&format!("start {port}\n"))?;
            match self.wait_status(
                &format!("start-{port}.status"),
                &format!("starting the server on port {port}"),
                STARTUP_TIMEOUT * 2,
            ) {
                Ok(()) => {
                    wait_for_tcp(port).map_err(|e| self.failure(&e))?;
                    return Ok(port);
                }
                Err(e) => last_error = e,
            }
        }
        Err(last_error)
    }
}

pub(super) fn wait_for_tcp(port: u16) -> Result<(), String> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let deadline = Instant::now() + STARTUP_TIMEOUT;
    loop {
        match TcpStream::connect_timeout(&addr, Duration::from_secs(1)) {
            Ok(_) => return Ok(()),
            Err(e) if Instant::now() > deadline => {
                return Err(format!(
                    "the server does not accept connections on {addr}: {e}"
                ));
            }
            Err(_) => std::thread::sleep(Duration::from_millis(50)),
        }
    }
}

pub(super) fn free_port() -> std::io::Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    Ok(listener.local_addr()?.port())
}

/// Creates `<tmp>/rls-pg-<pid>-<nanos>` with mode 0755.
fn make_temp_dir(for_other_user: bool) -> std::io::Result<PathBuf> {
    let mut base = std::env::temp_dir();
    // The socket path (`<dir>/.s.PGSQL.<port>`) must fit in ~107 bytes, and the
    // `postgres` user must be able to reach the directory.
    if base.as_os_str().len() > 60 || (for_other_user && !world_traversable(&base)) {
        base = PathBuf::from("/tmp");
    }
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let mut last_error = None;
    for attempt in 0..100u32 {
        let dir = base.join(format!(
            "rls-pg-{}-{:x}",
            std::process::id(),
            nanos.wrapping_add(attempt)
        ));
        match fs::create_dir(&dir) {
            Ok(()) => {
                fs::set_permissions(&dir, fs::Permissions::from_mode(0o755))?;
                return Ok(dir);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => last_error = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last_error.expect("at least one attempt"))
}

fn world_traversable(dir: &Path) -> bool {
    let Ok(dir) = dir.canonicalize() else {
        return false;
    };
    dir.ancestors().all(|d| {
        fs::metadata(d)
            .map(|m| m.permissions().mode() & 0o001 != 0)
            .unwrap_or(false)
    })
}

// ---------------------------------------------------------------------------
// Binaries and users
// ---------------------------------------------------------------------------

struct PgBins {
    initdb: PathBuf,
    pg_ctl: PathBuf,
}

/// Finds `initdb`, `pg_ctl` and `postgres` on PATH, else under
/// `pg_config --bindir`, else under the newest `/usr/lib/postgresql/*/bin`.
fn find_binaries() -> Option<PgBins> {
    if let (Some(initdb), Some(pg_ctl), Some(_)) =
        (which("initdb"), which("pg_ctl"), which("postgres"))
    {
        return Some(PgBins { initdb, pg_ctl });
    }
    let mut dirs = Vec::new();
    if let Ok(out) = Command::new("pg_config")
        .arg("--bindir")
        .stderr(Stdio::null())
        .output()
        && out.status.success()
    {
        dirs.push(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()));
    }
    dirs.extend(debian_bindirs());
    dirs.into_iter()
        .find(|dir| {
            ["initdb", "pg_ctl", "postgres"]
                .iter()
                .all(|bin| is_executable(&dir.join(bin)))
        })
        .map(|dir| PgBins {
            initdb: dir.join("initdb"),
            pg_ctl: dir.join("pg_ctl"),
        })
}

/// `/usr/lib/postgresql/<version>/bin`, newest version first.
fn debian_bindirs() -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir("/usr/lib/postgresql") else {
        return Vec::new();
    };
    let mut versions: Vec<(Vec<u32>, PathBuf)> = entries
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let name = entry.file_name().into_string().ok()?;
            let version = name
                .split('.')
                .map(str::parse)
                .collect::<Result<Vec<u32>, _>>()
                .ok()?;
            Some((version, entry.path().join("bin")))
        })
        .collect();
    versions.sort_by(|a, b| b.0.cmp(&a.0));
    versions.into_iter().map(|(_, dir)| dir).collect()
}

fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
}

/// Like [`which`], also looking in the sbin directories (often not on PATH).
pub(super) fn find_program(name: &str) -> Option<PathBuf> {
    which(name).or_else(|| {
        ["/usr/sbin", "/sbin", "/usr/bin", "/bin"]
            .iter()
            .map(|dir| Path::new(dir).join(name))
            .find(|candidate| is_executable(candidate))
    })
}

fn is_executable(path: &Path) -> bool {
    fs::metadata(path)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

pub(super) fn path_str(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

/// How to run the cluster's processes: as ourselves, or (when we are root, which
/// initdb and postgres refuse) as the `postgres` user.
enum RunAs {
    CurrentUser,
    Runuser(PathBuf),
    Su(PathBuf),
}

impl RunAs {
    fn detect() -> Result<Self, String> {
        if !running_as_root() {
            return Ok(RunAs::CurrentUser);
        }
        let user_exists = Command::new("id")
            .args(["-u", PG_USER])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !user_exists {
            return Err(format!(
                "running as root: initdb and postgres refuse to run as root, and there is no \
                 `{PG_USER}` user to run them as (create one, run the tests as another user, \
                 or set DATABASE_URL=postgres://...)"
            ));
        }
        if let Some(runuser) = find_program("runuser") {
            Ok(RunAs::Runuser(runuser))
        } else if let Some(su) = find_program("su") {
            Ok(RunAs::Su(su))
        } else {
            Err(format!(
                "running as root: initdb and postgres refuse to run as root, and neither \
                 `runuser` nor `su` was found to run them as `{PG_USER}` \
                 (or set DATABASE_URL=postgres://...)"
            ))
        }
    }

    fn is_other_user(&self) -> bool {
        !matches!(self, RunAs::CurrentUser)
    }

    fn command(&self, program: &str, args: &[String]) -> Command {
        match self {
            RunAs::CurrentUser => {
                let mut cmd = Command::new(program);
                cmd.args(args);
                cmd
            }
            RunAs::Runuser(runuser) => {
                let mut cmd = Command::new(runuser);
                cmd.args(["-u", PG_USER, "--", program]).args(args);
                cmd
            }
            RunAs::Su(su) => {
                let mut line = format!("exec {}", shell_quote(program));
                for arg in args {
                    line.push(' ');
                    line.push_str(&shell_quote(arg));
                }
                let mut cmd = Command::new(su);
                cmd.args(["-s", "/bin/sh", "-c", &line, PG_USER]);
                cmd
            }
        }
    }
}

fn running_as_root() -> bool {
    match Command::new("id").arg("-u").stderr(Stdio::null()).output() {
        Ok(out) if out.status.success() => String::from_utf8_lossy(&out.stdout).trim() == "0",
        _ => fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0),
    }
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

// ---------------------------------------------------------------------------
// URLs and connections
// ---------------------------------------------------------------------------

/// Replaces the database name (the path) of a `postgres://` URL.
pub(super) fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.find('?') {
        Some(i) => url.split_at(i),
        None => (url, ""),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let authority_end = base[authority_start..]
        .find('/')
        .map_or(base.len(), |i| authority_start + i);
    format!("{}/{database}{query}", &base[..authority_end])
}

/// The URL with its password (if any) replaced by `***`, for error messages.
pub(super) fn redact(url: &str) -> String {
    let authority_start = url.find("://").map_or(0, |i| i + 3);
    let rest = &url[authority_start..];
    let authority_len = rest.find(['/', '?']).unwrap_or(rest.len());
    match rest[..authority_len].rfind('@') {
        Some(at) => match rest[..at].find(':') {
            Some(colon) => format!(
                "{}{}:***{}",
                &url[..authority_start],
                &rest[..colon],
                &rest[at..]
            ),
            None => url.to_string(),
        },
        None => url.to_string(),
    }
}

/// Connects to the maintenance database, retrying for a while if the server is
/// not (yet) accepting connections.
pub(super) async fn connect_admin(url: &str) -> PgConnection {
    let deadline = Instant::now() + STARTUP_TIMEOUT;
    loop {
        match PgConnection::connect(url).await {
            Ok(conn) => return conn,
            Err(e) if is_transient(&e) && Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(100));
            }
            Err(e) => panic!(
                "could not connect to PostgreSQL at {}: {e}{}",
                redact(url),
                server_state()
            ),
        }
    }
}

fn is_transient(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut => true,
        // cannot_connect_now (starting up), too_many_connections
        sqlx::Error::Database(db) => {
            matches!(db.code().as_deref(), Some("57P03" | "53300"))
        }
        _ => false,
    }
}
