//! `gen-migrations`: the command-line front of the migration writer. A user's bin calls it
//! through `pgrls::gen_migrations!(SCHEMA)`.

use crate::change::plural;
use crate::diff::{self, Options, Plan};
use crate::model::{Auth, Schema, SchemaDef};
use crate::snapshot::Snapshot;
use crate::sql;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

const USAGE: &str = "\
Usage: gen-migrations [COMMAND] [OPTIONS]

Commands:
  (none)     write the next migration: the full schema the first time, then what changed
             since the last snapshot (DIR/snapshots/); nothing when nothing changed
  check      exit 1 and print the SQL when the schema differs from the last snapshot
  verify     compare a live database with the schema, table by table (needs --database-url)
  lint       find policies that are slow or open: from the model, or with --database-url
             from the database's catalogs (every table and function, and the login role);
             exit 1 on an error-level finding

Options:
  --stdout               print the SQL instead of writing files
  --format sql|json      with --stdout and check: print the SQL (default), or the plan as
                         JSON (each change with its phase, destructive mark, notes and SQL);
                         with lint: the findings as JSON instead of text
  --dir DIR              migrations folder (default: the crate's migrations/)
  --name NAME            description part of the file name (default: init, then change)
  --auth neon|postgres|supabase
                         provider of the user's identity (first migration: what it sets up)
  --allow-destructive    allow dropping tables and columns, narrowing types, dropping enum
                         values; the statements are marked in the SQL
  --database-url URL     the database `verify` inspects (default: $DATABASE_URL); `lint`
                         lints a database only when given it here, connecting as the
                         application does (its login role is checked too)
  --deny warnings        with lint: exit 1 on warnings too (for CI)

Files are sqlx's layout, DIR/<version>_<name>.sql, runnable by sqlx::migrate!() and
`sqlx migrate run`; a migration already written is never rewritten.
";

/// Runs the generator with the process's arguments and prints to stdout / stderr.
/// `crate_name` and `manifest_dir` are the schema crate's (`gen_migrations!` passes them).
pub fn main(schema: &Schema, crate_name: &str, manifest_dir: &str) -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let code = run(
        schema,
        crate_name,
        Path::new(manifest_dir),
        &args,
        &mut std::io::stdout(),
        &mut std::io::stderr(),
    );
    ExitCode::from(code)
}

/// [`main`] for a schema whose migrations live in `folder` of the crate instead of
/// `migrations/` (`gen_migrations!(SCHEMA, dir = "migrations-citus")`): a crate with two
/// schemas, such as one for a single server and one for Citus. A `--dir` given on the
/// command line still wins.
pub fn main_in(schema: &Schema, crate_name: &str, manifest_dir: &str, folder: &str) -> ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let commands = ["check", "verify", "lint", "generate"];
    let at = usize::from(args.first().is_some_and(|a| commands.contains(&a.as_str())));
    let dir = Path::new(manifest_dir).join(folder).display().to_string();
    args.splice(at..at, ["--dir".to_string(), dir]);
    let code = run(
        schema,
        crate_name,
        Path::new(manifest_dir),
        &args,
        &mut std::io::stdout(),
        &mut std::io::stderr(),
    );
    ExitCode::from(code)
}

/// The generator, with its arguments and outputs passed in (for tests). Returns the exit
/// code: 0 done, 1 refused or differences found, 2 bad usage.
pub fn run(
    schema: &Schema,
    crate_name: &str,
    crate_dir: &Path,
    args: &[String],
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> u8 {
    let opts = match parse(schema, crate_dir, args) {
        Ok(Some(opts)) => opts,
        Ok(None) => {
            let _ = write!(out, "{USAGE}");
            return 0;
        }
        Err(message) => {
            let _ = writeln!(err, "gen-migrations: usage: {message}\n\n{USAGE}");
            return 2;
        }
    };
    // Converted with the provider `--auth` names: the model is lowered onto it.
    let schema = SchemaDef::from(&schema.auth(opts.auth));
    let ctx = Ctx {
        schema,
        crate_name,
        opts,
    };
    let result = match ctx.opts.command {
        Command::Generate => generate(&ctx, out),
        Command::Check => check(&ctx, out),
        Command::Verify => verify(&ctx, out),
        Command::Lint => lint(&ctx, out),
    };
    match result {
        Ok(code) => code,
        Err(message) => {
            let _ = writeln!(err, "gen-migrations: {message}");
            1
        }
    }
}

#[derive(PartialEq)]
enum Command {
    Generate,
    Check,
    Verify,
    Lint,
}

#[derive(PartialEq)]
enum Format {
    Sql,
    Json,
}

struct Opts {
    command: Command,
    stdout: bool,
    format: Format,
    dir: PathBuf,
    name: Option<String>,
    auth: Auth,
    allow_destructive: bool,
    database_url: Option<String>,
    /// `--database-url` was given (not only $DATABASE_URL): `lint` goes live.
    database_url_given: bool,
    deny_warnings: bool,
}

fn parse(schema: &Schema, crate_dir: &Path, args: &[String]) -> Result<Option<Opts>, String> {
    let mut opts = Opts {
        command: Command::Generate,
        stdout: false,
        format: Format::Sql,
        dir: crate_dir.join("migrations"),
        name: None,
        auth: schema.auth,
        allow_destructive: false,
        database_url: std::env::var("DATABASE_URL").ok(),
        database_url_given: false,
        deny_warnings: false,
    };
    let mut args = args.iter().peekable();
    let command = match args.peek().map(|a| a.as_str()) {
        Some("check") => Some(Command::Check),
        Some("verify") => Some(Command::Verify),
        Some("lint") => Some(Command::Lint),
        Some("generate") => Some(Command::Generate),
        _ => None,
    };
    if let Some(command) = command {
        opts.command = command;
        args.next();
    }
    match parse_flags(&mut opts, args) {
        Ok(()) => {}
        Err(e) if e == "help" => return Ok(None),
        Err(e) => return Err(e),
    }
    if opts.deny_warnings && opts.command != Command::Lint {
        return Err("--deny warnings is for lint".into());
    }
    let lint = opts.command == Command::Lint;
    if opts.format == Format::Json && opts.command != Command::Check && !opts.stdout && !lint {
        return Err("--format json prints the plan: use it with --stdout or with check".into());
    }
    Ok(Some(opts))
}

fn parse_flags<'a>(
    opts: &mut Opts,
    mut args: impl Iterator<Item = &'a String>,
) -> Result<(), String> {
    while let Some(arg) = args.next() {
        let mut value = |flag: &str| {
            args.next()
                .cloned()
                .ok_or_else(|| format!("{flag} needs a value"))
        };
        match arg.as_str() {
            "-h" | "--help" => return Err("help".into()),
            "--stdout" => opts.stdout = true,
            "--allow-destructive" => opts.allow_destructive = true,
            "--dir" => opts.dir = PathBuf::from(value("--dir")?),
            "--format" => {
                opts.format = match value("--format")?.as_str() {
                    "sql" => Format::Sql,
                    "json" => Format::Json,
                    v => {
                        return Err(format!(
                            "--format {v:?}: write --format sql or --format json"
                        ));
                    }
                }
            }
            "--database-url" => {
                opts.database_url = Some(value("--database-url")?);
                opts.database_url_given = true;
            }
            "--deny" => match value("--deny")?.as_str() {
                "warnings" => opts.deny_warnings = true,
                v => return Err(format!("--deny {v:?}: write --deny warnings")),
            },
            "--name" => {
                let name = value("--name")?;
                if name.is_empty()
                    || !name
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
                {
                    return Err(format!(
                        "--name {name:?}: use letters, digits, '_' and '-' only"
                    ));
                }
                opts.name = Some(name);
            }
            "--auth" => {
                let v = value("--auth")?;
                opts.auth = Auth::parse(&v).ok_or_else(|| {
                    format!("--auth {v:?}: write --auth neon, --auth postgres or --auth supabase")
                })?;
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(())
}

/// The written migrations, by version, with their snapshots.
struct History {
    migrations: Vec<(i64, PathBuf)>,
}

impl History {
    fn read(dir: &Path) -> Result<History, String> {
        let entries = match std::fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(History {
                    migrations: Vec::new(),
                });
            }
            Err(e) => return Err(format!("cannot read {}: {e}", dir.display())),
        };
        let mut migrations = Vec::new();
        for entry in entries {
            let path = entry
                .map_err(|e| format!("cannot read {}: {e}", dir.display()))?
                .path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            let version = name
                .strip_suffix(".sql")
                .and_then(|stem| stem.split_once('_'))
                .and_then(|(v, _)| v.parse::<i64>().ok());
            if let Some(v) = version
                && path.is_file()
            {
                migrations.push((v, path));
            }
        }
        migrations.sort();
        Ok(History { migrations })
    }

    fn snapshot_path(migration: &Path) -> PathBuf {
        let stem = migration.file_stem().and_then(|s| s.to_str()).unwrap_or("");
        migration
            .parent()
            .unwrap_or(Path::new("."))
            .join("snapshots")
            .join(format!("{stem}.json"))
    }

    fn next_version(&self) -> i64 {
        self.migrations.last().map_or(1, |(v, _)| v + 1)
    }
}

/// What a command works on: the schema (with `--auth` applied), the crate's name and the
/// options.
struct Ctx<'a> {
    schema: SchemaDef,
    crate_name: &'a str,
    opts: Opts,
}

/// The last snapshot; a lone first migration written before snapshots existed is adopted
/// when it is exactly what the schema renders.
fn last_snapshot(
    ctx: &Ctx,
    history: &History,
    out: &mut dyn Write,
) -> Result<Option<SchemaDef>, String> {
    let Some((_, last)) = history.migrations.last() else {
        return Ok(None);
    };
    let opts = &ctx.opts;
    let path = History::snapshot_path(last);
    match std::fs::read_to_string(&path) {
        Ok(text) => Snapshot::from_json(&text)
            .map(|s| Some(s.into()))
            .map_err(|e| format!("{}: {e}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let written = std::fs::read_to_string(last)
                .map_err(|e| format!("cannot read {}: {e}", last.display()))?;
            let full = crate::migration::migration(&ctx.schema).map_err(schema_errors)?;
            if history.migrations.len() == 1 && written == full {
                if !opts.stdout && opts.command == Command::Generate {
                    write_file(&path, &Snapshot::from(ctx.schema.clone()).to_json())?;
                    let _ = writeln!(out, "adopted {}: wrote {}", shown(last), shown(&path));
                }
                return Ok(Some(ctx.schema.clone()));
            }
            Err(format!(
                "{} has no snapshot ({}), so what it created is unknown. Restore the snapshot \
                 from version control; for a migration written by hand, start a new migrations \
                 folder from the schema with --dir.",
                last.display(),
                path.display()
            ))
        }
        Err(e) => Err(format!("cannot read {}: {e}", path.display())),
    }
}

/// A path as the user would type it: relative to the current directory when inside it.
fn shown(path: &Path) -> String {
    std::env::current_dir()
        .ok()
        .and_then(|cwd| path.strip_prefix(cwd).ok().map(Path::to_path_buf))
        .unwrap_or_else(|| path.to_path_buf())
        .display()
        .to_string()
}

/// "2 tables, 5 policies, 2 roles".
fn counts(schema: &SchemaDef) -> String {
    format!(
        "{}, {}, {}",
        plural(schema.tables.len(), "table"),
        plural(schema.policy_count(), "policy"),
        plural(schema.roles().len(), "role")
    )
}

/// The written migrations' file names, for the reports.
fn migration_count(history: &History) -> String {
    match history.migrations.last() {
        None => "no migrations yet".into(),
        Some((_, last)) => format!(
            "{}, the last {}",
            plural(history.migrations.len(), "migration"),
            last.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        ),
    }
}

fn schema_errors(errors: Vec<crate::SchemaError>) -> String {
    let list: Vec<String> = errors.iter().map(|e| format!("  {e}")).collect();
    format!("the schema has errors:\n{}", list.join("\n"))
}

fn write_file(path: &Path, text: &str) -> Result<(), String> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
    }
    std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

fn generate(ctx: &Ctx, out: &mut dyn Write) -> Result<u8, String> {
    let opts = &ctx.opts;
    let history = History::read(&opts.dir)?;
    let previous = last_snapshot(ctx, &history, out)?;
    // One migration file, or two when new enum values must be committed first (see
    // `diff::Split`): each with its SQL and the model its snapshot records.
    let (plan, files, default_name) = match &previous {
        None => {
            let plan = diff::initial(&ctx.schema).map_err(schema_errors)?;
            let sql = crate::migration::migration(&ctx.schema).map_err(schema_errors)?;
            let files = vec![(sql, plan.next.clone())];
            (plan, files, "init")
        }
        Some(previous) => {
            let plan = changes(ctx, previous, opts.allow_destructive)?;
            if plan.is_empty() && opts.format == Format::Sql {
                let _ = write!(
                    out,
                    "no changes: {} ({}): {}\n\
                     Up to date: the tables and policies match the last snapshot ({}).\n\
                     Next: edit the model structs and run again to get the next migration;\n\
                     \x20     `gen-migrations check` in CI fails while one is missing; --help for more.\n",
                    ctx.crate_name,
                    shown(&opts.dir),
                    migration_count(&history),
                    counts(&ctx.schema)
                );
                return Ok(0);
            }
            let last = history
                .migrations
                .last()
                .and_then(|(_, p)| p.file_name())
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let parts = plan.parts();
            let files = parts
                .iter()
                .enumerate()
                .map(|(k, part)| {
                    let what = match (parts.len(), k) {
                        (1, _) => format!("the changes since {last}"),
                        (_, 0) => format!(
                            "the new enum values since {last}, in a file of their own (see the note)"
                        ),
                        _ => format!(
                            "the changes since {last}, after the new enum values of the previous file"
                        ),
                    };
                    let header = format!(
                        "-- Generated by pgrls {} from the Rust schema: {what}.\n-- Do not edit: change the structs and generate a new migration.\n\n",
                        env!("CARGO_PKG_VERSION")
                    );
                    (header + &part.sql(), part.next.clone())
                })
                .collect();
            (plan, files, "change")
        }
    };
    if opts.stdout {
        match opts.format {
            Format::Sql => {
                let texts: Vec<&str> = files.iter().map(|(sql, _)| sql.as_str()).collect();
                let _ = write!(out, "{}", texts.join(sql::SECOND_FILE));
            }
            Format::Json => {
                let _ = write!(out, "{}", plan.to_json());
            }
        }
        return Ok(0);
    }
    let name = opts.name.as_deref().unwrap_or(default_name);
    let mut wrote = Vec::new();
    for (k, (sql, next)) in files.iter().enumerate() {
        let version = history.next_version() + k as i64;
        let stem = if files.len() > 1 && k == 0 {
            format!("{version:04}_{name}_enum_values")
        } else {
            format!("{version:04}_{name}")
        };
        let path = opts.dir.join(format!("{stem}.sql"));
        write_file(&path, sql)?;
        let snapshot_path = History::snapshot_path(&path);
        write_file(&snapshot_path, &Snapshot::from(next.clone()).to_json())?;
        wrote.push(format!(
            "wrote {}\n  and its snapshot {}",
            shown(&path),
            shown(&snapshot_path)
        ));
    }
    let what = match previous {
        None => format!("Creates the whole schema: {}", counts(&plan.next)),
        Some(_) => format!("Changes: {}", plan.summary()),
    };
    let _ = writeln!(out, "{}: {}", ctx.crate_name, wrote.join("\nthen "));
    if let Some(split) = &plan.split {
        let _ = writeln!(out, "Two migration files: {}", split.reason);
    }
    let _ = writeln!(out, "{what}");
    for note in plan.notes.iter().take(2) {
        let _ = writeln!(out, "Note: {note}");
    }
    if plan.notes.len() > 2 {
        let _ = writeln!(
            out,
            "... and {} more notes at the top of the migration",
            plan.notes.len() - 2
        );
    }
    let _ = writeln!(
        out,
        "{}",
        if files.len() == 1 {
            "Next: apply it with sqlx::migrate!() or `sqlx migrate run`, and commit both files."
        } else {
            "Next: apply them with sqlx::migrate!() or `sqlx migrate run` (each runs in its own transaction), and commit the four files."
        }
    );
    Ok(0)
}

/// What changed since `previous` (see [`diff::diff`]).
fn changes(ctx: &Ctx, previous: &SchemaDef, allow_destructive: bool) -> Result<Plan, String> {
    diff::diff(previous, &ctx.schema, Options { allow_destructive }).map_err(|e| e.to_string())
}

fn check(ctx: &Ctx, out: &mut dyn Write) -> Result<u8, String> {
    let opts = &ctx.opts;
    let history = History::read(&opts.dir)?;
    let Some(previous) = last_snapshot(ctx, &history, out)? else {
        if opts.format == Format::Json {
            let plan = diff::initial(&ctx.schema).map_err(schema_errors)?;
            let _ = write!(out, "{}", plan.to_json());
        } else {
            let _ = writeln!(out, "no migration yet: the whole schema is new");
        }
        return Ok(1);
    };
    // Destructive changes are shown too: check reports, it writes nothing.
    let plan = changes(ctx, &previous, true)?;
    if opts.format == Format::Json {
        let _ = write!(out, "{}", plan.to_json());
    } else if plan.is_empty() {
        let _ = writeln!(
            out,
            "no changes: {} matches the last snapshot ({})",
            ctx.crate_name,
            migration_count(&history)
        );
    } else {
        let _ = writeln!(
            out,
            "the schema differs from the last snapshot; `gen-migrations` would write:\n\n{}",
            plan.sql()
        );
    }
    Ok(if plan.is_empty() { 0 } else { 1 })
}

fn verify(ctx: &Ctx, out: &mut dyn Write) -> Result<u8, String> {
    let opts = &ctx.opts;
    let url = opts
        .database_url
        .clone()
        .ok_or("verify needs --database-url URL (or DATABASE_URL)")?;
    // What the database should hold: the schema, with RLS kept on where the last migration
    // kept it (see `diff::diff`).
    let history = History::read(&opts.dir)?;
    let mut expected = ctx.schema.clone();
    if let Some(previous) = last_snapshot(ctx, &history, &mut std::io::sink())? {
        expected = changes(ctx, &previous, true)?.next;
        expected.auth = ctx.schema.auth;
    }
    verify_database(&url, &expected, out)
}

fn lint(ctx: &Ctx, out: &mut dyn Write) -> Result<u8, String> {
    let opts = &ctx.opts;
    let tables = ctx.schema.table_refs();
    crate::check::check_tables(&tables).map_err(schema_errors)?;
    let report = match (&opts.database_url, opts.database_url_given) {
        (Some(url), true) => lint_database(url, &ctx.schema)?,
        _ => crate::lint::model(&ctx.schema),
    };
    let text = match opts.format {
        Format::Json => report.json(),
        Format::Sql => report.human(),
    };
    let _ = write!(out, "{text}");
    Ok(report.exit_code(opts.deny_warnings))
}

#[cfg(feature = "runtime-tokio")]
fn lint_database(url: &str, schema: &SchemaDef) -> Result<crate::lint::Report, String> {
    use sqlx::Connection;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start a runtime: {e}"))?;
    runtime.block_on(async {
        let options: sqlx::postgres::PgConnectOptions =
            url.parse().map_err(|e| format!("--database-url: {e}"))?;
        let mut conn = sqlx::PgConnection::connect_with(&options)
            .await
            .map_err(|e| format!("cannot connect to the database: {e}"))?;
        let report = crate::lint::live(&mut conn, schema)
            .await
            .map_err(|e| format!("cannot read the catalogs: {e}"));
        let _ = conn.close().await;
        report
    })
}

#[cfg(not(feature = "runtime-tokio"))]
fn lint_database(_: &str, _: &SchemaDef) -> Result<crate::lint::Report, String> {
    Err("lint --database-url connects to the database: enable pgrls's `runtime-tokio` feature (on by default)".into())
}

#[cfg(feature = "runtime-tokio")]
fn verify_database(url: &str, expected: &SchemaDef, out: &mut dyn Write) -> Result<u8, String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start a runtime: {e}"))?;
    let differences = runtime.block_on(crate::drift::compare(url, expected))?;
    if differences.is_empty() {
        let _ = writeln!(out, "no drift: the database matches the schema");
        return Ok(0);
    }
    let _ = writeln!(out, "the database differs from the schema:");
    for d in &differences {
        let _ = writeln!(out, "  {d}");
    }
    Ok(1)
}

#[cfg(not(feature = "runtime-tokio"))]
fn verify_database(_: &str, _: &SchemaDef, _: &mut dyn Write) -> Result<u8, String> {
    Err(
        "verify connects to the database: enable pgrls's `runtime-tokio` feature (on by default)"
            .into(),
    )
}
