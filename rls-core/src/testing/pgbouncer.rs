//! PgBouncer in transaction pooling mode in front of the test cluster, for the project's own
//! tests of sessions through a pooler (not a stable API).
//!
//! Debian's pgbouncer is 1.18, older than `max_prepared_statements` (1.21): the strictest
//! case, since nothing there makes sqlx's named statements survive a change of server
//! connection.

use std::fmt::Write as _;
use std::fs;
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use super::cluster::{Guardian, find_program, free_port, path_str, server_address, wait_for_tcp};

const NO_PGBOUNCER: &str = "this test needs pgbouncer (on PATH or in /usr/sbin): run \
     `scripts/test`, which installs it (as root, or prints the commands), or on Debian/Ubuntu: \
     sudo apt-get install pgbouncer";

/// Starts pgbouncer with `$1/pgbouncer.ini`, then serves `stop N` / `start N` lines from stdin
/// (writing `ok` to `$1/<command>-N.status`), and when stdin closes stops it and removes the
/// directory. SIGTERM is pgbouncer 1.18's immediate shutdown; SIGINT would wait
/// for every client's transaction to end, and a test may leave one open.
const SCRIPT: &str = r#"
trap '' HUP INT
dir=$1 pgbouncer=$2
start() {
  "$pgbouncer" "$dir/pgbouncer.ini" >>"$dir/pgbouncer.log" 2>&1 </dev/null &
  pid=$!
}
start
while read -r cmd n; do
  case $cmd in
    stop) kill -TERM "$pid" 2>/dev/null; wait "$pid"; echo ok >"$dir/stop-$n.status" ;;
    start) start; echo ok >"$dir/start-$n.status" ;;
  esac
done
kill -TERM "$pid" 2>/dev/null
wait "$pid"
rm -rf "$dir"
"#;

/// A pgbouncer process in front of the cluster (every database, by its name), stopped when
/// dropped.
pub struct PgBouncer {
    port: u16,
    guardian: Guardian,
    commands: u32,
}

impl PgBouncer {
    /// Starts pgbouncer on a free port of 127.0.0.1 in `pool_mode = transaction`, with at
    /// most `server_connections` server connections per database and user, and trusting
    /// these `(user, password)` pairs (the passwords are what it logs in to the server with).
    /// Panics, saying why, when pgbouncer is missing or does not start.
    pub fn start(server_connections: u32, users: &[(&str, &str)]) -> PgBouncer {
        PgBouncer::start_ignoring(server_connections, users, &[])
    }

    /// [`PgBouncer::start`], also accepting (and dropping) these start-up parameters, beyond
    /// `extra_float_digits`.
    pub fn start_ignoring(
        server_connections: u32,
        users: &[(&str, &str)],
        ignored: &[&str],
    ) -> PgBouncer {
        let mut ignored_parameters = vec!["extra_float_digits"];
        ignored_parameters.extend(ignored);
        let ignored = ignored_parameters.join(",");
        PgBouncer::try_start(server_connections, users, &ignored).unwrap_or_else(|e| panic!("{e}"))
    }

    fn try_start(
        server_connections: u32,
        users: &[(&str, &str)],
        ignored: &str,
    ) -> Result<PgBouncer, String> {
        let program = find_program("pgbouncer").ok_or(NO_PGBOUNCER)?;
        let (host, server_port) = server_address();
        let mut last_error = String::new();
        // The port can be taken between `free_port` and pgbouncer binding it: retry.
        for _attempt in 0..5 {
            let port = free_port().map_err(|e| format!("no free port: {e}"))?;
            let guardian = Guardian::spawn(
                "rls-pgbouncer",
                SCRIPT,
                &[path_str(&program)],
                "pgbouncer.log",
                |dir| {
                    fs::write(dir.join("userlist.txt"), userlist(users))?;
                    fs::write(
                        dir.join("pgbouncer.ini"),
                        Config {
                            host: &host,
                            server_port,
                            port,
                            server_connections,
                            ignored,
                            dir: &path_str(dir),
                        }
                        .ini(),
                    )
                },
            )?;
            match wait_until_listening(&guardian, port) {
                Ok(()) => {
                    return Ok(PgBouncer {
                        port,
                        guardian,
                        commands: 0,
                    });
                }
                Err(e) => {
                    last_error = e;
                    guardian.stop();
                }
            }
        }
        Err(last_error)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Stops pgbouncer (SIGTERM, its immediate shutdown: every client and server connection
    /// closed); connections to its port are refused until [`PgBouncer::restart`].
    pub fn stop(&mut self) {
        self.command("stop");
    }

    /// Starts it again on the same port after [`PgBouncer::stop`], with the same
    /// configuration, and waits until it accepts connections.
    pub fn restart(&mut self) {
        self.command("start");
        wait_for_tcp(self.port).unwrap_or_else(|e| {
            panic!(
                "pgbouncer did not restart: {e}\n{}",
                self.guardian.log_tail()
            )
        });
    }

    fn command(&mut self, command: &str) {
        self.commands += 1;
        let n = self.commands;
        let done = self
            .guardian
            .send(&format!("{command} {n}\n"))
            .and_then(|()| {
                self.guardian.wait_status(
                    &format!("{command}-{n}.status"),
                    &format!("{command} pgbouncer"),
                    Duration::from_secs(30),
                )
            });
        done.unwrap_or_else(|e| panic!("{e}"));
    }
}

impl Drop for PgBouncer {
    fn drop(&mut self) {
        self.guardian.close();
    }
}

struct Config<'a> {
    host: &'a str,
    server_port: u16,
    port: u16,
    server_connections: u32,
    ignored: &'a str,
    dir: &'a str,
}

impl Config<'_> {
    fn ini(&self) -> String {
        let Config {
            host,
            server_port,
            port,
            server_connections,
            ignored,
            dir,
        } = self;
        let mut ini = String::new();
        let _ = write!(
            ini,
            "[databases]\n\
         * = host={host} port={server_port}\n\
         \n\
         [pgbouncer]\n\
         listen_addr = 127.0.0.1\n\
         listen_port = {port}\n\
         unix_socket_dir =\n\
         auth_type = trust\n\
         auth_file = {dir}/userlist.txt\n\
         pool_mode = transaction\n\
         default_pool_size = {server_connections}\n\
         min_pool_size = 0\n\
         reserve_pool_size = 0\n\
         max_client_conn = 1000\n\
         ; sqlx sends extra_float_digits; pgbouncer refuses unknown start-up parameters.\n\
         ignore_startup_parameters = {ignored}\n\
         pidfile = {dir}/pgbouncer.pid\n\
         log_connections = 0\n\
         log_disconnections = 0\n"
        );
        ini
    }
}

/// `"user" "password"` lines: with `auth_type = trust` pgbouncer checks no password, but it
/// knows only these users and logs in to the server with these passwords.
fn userlist(users: &[(&str, &str)]) -> String {
    users
        .iter()
        .map(|(user, password)| {
            format!(
                "\"{}\" \"{}\"\n",
                user.replace('"', "\"\""),
                password.replace('"', "\"\"")
            )
        })
        .collect()
}

fn wait_until_listening(guardian: &Guardian, port: u16) -> Result<(), String> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return Ok(());
        }
        let log = guardian.log_tail();
        if log.contains("FATAL") || log.contains("ERROR") || Instant::now() > deadline {
            return Err(format!(
                "pgbouncer did not start on {addr} (in {}):\n{log}",
                guardian.dir().display()
            ));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
