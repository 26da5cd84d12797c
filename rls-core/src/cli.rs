//! `gen-migrations`: the command-line front of the migration writer. A user's bin calls it
//! through `rls::gen_migrations!(SCHEMA)`.

use crate::model::{Auth, Schema};
use crate::sql;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

const USAGE: &str = "\
Usage: gen-migrations [--stdout] [--dir DIR] [--name NAME] [--auth neon|postgres]

Writes the schema's migration as DIR/<version>_<name>.sql (sqlx's layout, runnable by
sqlx::migrate!() and `sqlx migrate run`).

  --stdout          print the SQL instead of writing a file
  --dir DIR         migrations folder (default: the crate's migrations/)
  --name NAME       description part of the file name (default: init)
  --auth PROVIDER   neon: pg_session_jwt (Neon RLS); postgres: portable auth.user_id()
                    over request.jwt.claims (default: what the schema says)
";

/// Runs the generator with the process's arguments and prints to stdout / stderr.
pub fn main(schema: &Schema, manifest_dir: &str) -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let code = run(
        schema,
        Path::new(manifest_dir),
        &args,
        &mut std::io::stdout(),
        &mut std::io::stderr(),
    );
    ExitCode::from(code)
}

/// The generator, with its arguments and outputs passed in (for tests). Returns the exit code.
pub fn run(
    schema: &Schema,
    crate_dir: &Path,
    args: &[String],
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> u8 {
    match run_inner(schema, crate_dir, args, out) {
        Ok(()) => 0,
        Err(message) => {
            let _ = writeln!(err, "gen-migrations: {message}");
            2 - u8::from(!message.starts_with("usage"))
        }
    }
}

struct Options {
    stdout: bool,
    dir: PathBuf,
    name: String,
    auth: Auth,
}

fn parse(schema: &Schema, crate_dir: &Path, args: &[String]) -> Result<Option<Options>, String> {
    let mut opts = Options {
        stdout: false,
        dir: crate_dir.join("migrations"),
        name: "init".into(),
        auth: schema.auth,
    };
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let mut value = |flag: &str| {
            args.next()
                .cloned()
                .ok_or_else(|| format!("usage: {flag} needs a value\n\n{USAGE}"))
        };
        match arg.as_str() {
            "-h" | "--help" => return Ok(None),
            "--stdout" => opts.stdout = true,
            "--dir" => opts.dir = PathBuf::from(value("--dir")?),
            "--name" => {
                let name = value("--name")?;
                if name.is_empty()
                    || !name
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
                {
                    return Err(format!(
                        "usage: --name {name:?}: use letters, digits, '_' and '-' only"
                    ));
                }
                opts.name = name;
            }
            "--auth" => {
                let v = value("--auth")?;
                opts.auth = Auth::parse(&v).ok_or_else(|| {
                    format!("usage: --auth {v:?}: write --auth neon or --auth postgres")
                })?;
            }
            other => return Err(format!("usage: unknown argument {other:?}\n\n{USAGE}")),
        }
    }
    Ok(Some(opts))
}

fn run_inner(
    schema: &Schema,
    crate_dir: &Path,
    args: &[String],
    out: &mut dyn Write,
) -> Result<(), String> {
    let Some(opts) = parse(schema, crate_dir, args)? else {
        let _ = write!(out, "{USAGE}");
        return Ok(());
    };
    let sql = sql::migration(schema, opts.auth).map_err(|errors| {
        let list: Vec<String> = errors.iter().map(|e| format!("  {e}")).collect();
        format!("the schema has errors:\n{}", list.join("\n"))
    })?;
    if opts.stdout {
        let _ = write!(out, "{sql}");
        return Ok(());
    }
    let existing = migrations(&opts.dir)?;
    if let Some((_, last)) = existing.last() {
        let written = std::fs::read_to_string(last)
            .map_err(|e| format!("cannot read {}: {e}", last.display()))?;
        if existing.len() == 1 && written == sql {
            let _ = writeln!(out, "no changes: {} is up to date", last.display());
            return Ok(());
        }
        // A written migration is never rewritten: sqlx checksums applied files.
        return Err(format!(
            "{} already holds migrations and the schema differs from them. Incremental \
             migrations are not generated yet; run with --stdout to see the full schema, \
             and write the change as a new migration by hand.",
            opts.dir.display()
        ));
    }
    std::fs::create_dir_all(&opts.dir)
        .map_err(|e| format!("cannot create {}: {e}", opts.dir.display()))?;
    let path = opts.dir.join(format!("0001_{}.sql", opts.name));
    std::fs::write(&path, &sql).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    let _ = writeln!(out, "wrote {}", path.display());
    Ok(())
}

/// The folder's sqlx migrations (`<version>_<description>.sql`), by version.
fn migrations(dir: &Path) -> Result<Vec<(i64, PathBuf)>, String> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(format!("cannot read {}: {e}", dir.display())),
    };
    let mut out = Vec::new();
    for entry in entries {
        let path = entry
            .map_err(|e| format!("cannot read {}: {e}", dir.display()))?
            .path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let version = name
            .strip_suffix(".sql")
            .and_then(|stem| stem.split_once('_'))
            .and_then(|(v, _)| v.parse::<i64>().ok());
        if let Some(v) = version {
            out.push((v, path));
        }
    }
    out.sort();
    Ok(out)
}
