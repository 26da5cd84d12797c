//! The lints of `gen-migrations lint`: their names (what `#[allow_lint(name, ...)]` accepts),
//! levels and reasons. Here rather than in rls-core so that the derive refuses a misspelt
//! name at compile time from the same list the linter reports.

/// How bad a finding is. `lint` exits 1 on an error, and on a warning with `--deny warnings`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Level {
    /// Informational: never fails the run.
    Info,
    /// Fails the run with `--deny warnings`.
    Warning,
    /// Always fails the run.
    Error,
}

impl Level {
    /// The lowercase word reports print (`"warning"`).
    pub const fn word(self) -> &'static str {
        match self {
            Level::Info => "info",
            Level::Warning => "warning",
            Level::Error => "error",
        }
    }
}

macro_rules! lints {
    ($($(#[$meta:meta])* $variant:ident = $name:literal, $level:ident, $splinter:literal, $why:literal;)*) => {
        /// One lint. The numbers are Supabase splinter's, where the lint is one of theirs.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Lint { $($(#[$meta])* $variant,)* }

        impl Lint {
            /// Every lint, in declaration order.
            pub const ALL: &'static [Lint] = &[$(Lint::$variant),*];
            /// The names `#[allow_lint]` accepts, in declaration order.
            pub const NAMES: &'static [&'static str] = &[$($name),*];

            /// The kebab-case name, as reported and as written in `#[allow_lint]`.
            pub const fn name(self) -> &'static str {
                match self { $(Lint::$variant => $name,)* }
            }

            /// The lint named `name` (kebab-case); `None` for a name that is not one.
            pub fn from_name(name: &str) -> Option<Lint> {
                match name { $($name => Some(Lint::$variant),)* _ => None }
            }

            /// How bad its findings are.
            pub const fn level(self) -> Level {
                match self { $(Lint::$variant => Level::$level,)* }
            }

            /// Splinter's number (`"0003"`), or `""` for this project's own lints.
            pub const fn splinter(self) -> &'static str {
                match self { $(Lint::$variant => $splinter,)* }
            }

            /// Why it matters, in one sentence.
            pub const fn why(self) -> &'static str {
                match self { $(Lint::$variant => $why,)* }
            }
        }
    };
}

lints! {
    /// A foreign key with no index leading with its columns.
    UnindexedForeignKey = "unindexed-foreign-key", Info, "0001",
        "deleting or updating a referenced row scans the whole referencing table, and joins along the key cannot use an index";
    /// A policy that calls `auth.*()` or `current_setting()` outside a `(select ...)`, so once
    /// per row.
    AuthRlsInitplan = "auth-rls-initplan", Warning, "0003",
        "a function called outside `(select ...)` in a policy is evaluated once per row instead of once per statement, and an index on the compared column cannot be used";
    /// Two or more permissive policies on one table for the same role and command.
    MultiplePermissivePolicies = "multiple-permissive-policies", Warning, "0006",
        "every permissive policy for the role and command is evaluated for every row and OR-ed: one policy with both conditions is faster and easier to audit";
    /// A table with policies and row-level security off.
    PolicyExistsRlsDisabled = "policy-exists-rls-disabled", Error, "0007",
        "the policies are ignored while row-level security is disabled: every role with a grant sees and changes every row";
    /// A table with row-level security on and no policy.
    RlsEnabledNoPolicy = "rls-enabled-no-policy", Info, "0008",
        "row-level security without a policy denies every row to every role but the owner; fine for a private table, a mistake otherwise";
    /// Two indexes of a table on the same columns, with the same uniqueness and predicate.
    DuplicateIndex = "duplicate-index", Warning, "0009",
        "two identical indexes cost twice on every write and help no read";
    /// A view without `security_invoker` that a session role may read.
    SecurityDefinerView = "security-definer-view", Error, "0010",
        "a view runs with its owner's privileges unless it is `security_invoker`, so the policies of the tables it reads are checked against the owner, not the user";
    /// A function without a fixed `search_path` (a SQL function that is not SECURITY DEFINER
    /// excepted).
    FunctionSearchPathMutable = "function-search-path-mutable", Warning, "0011",
        "a function without a fixed search_path resolves names through the caller's search_path, which a caller can point at objects of their own";
    /// A table without row-level security on which a session role holds privileges.
    RlsDisabledExposedTable = "rls-disabled-exposed-table", Error, "0013",
        "a session role holds privileges on a table without row-level security: every user reads or changes every row";
    /// A policy that reads `user_metadata` (`raw_user_meta_data`).
    UserMetadataInPolicy = "user-metadata-in-policy", Error, "0015",
        "`user_metadata` (`raw_user_meta_data`) is editable by the user it describes: a policy that trusts it lets users grant themselves access";
    /// A permissive INSERT, UPDATE, DELETE or ALL policy whose condition is always true.
    PolicyAlwaysTrue = "policy-always-true", Warning, "0024",
        "a write policy whose condition is always true lets every user of its roles change every row";
    /// A SECURITY DEFINER function that a session role may call (the model's `#[lookup]`s
    /// excepted).
    SecurityDefinerFunctionExecutable = "security-definer-function-executable", Warning, "0028/0029",
        "a SECURITY DEFINER function runs with its owner's privileges, bypassing the policies, and a session role may call it";
    /// A policy that compares the user id with a column that is not text, or casts the column.
    UserIdNonTextColumn = "user-id-non-text-column", Error, "",
        "auth.user_id() is text: compared with a column of another type, the comparison fails or casts the column, and the column's index is not used";
    /// A column a policy compares with the user id, with no index leading with it.
    UnindexedPolicyColumn = "unindexed-policy-column", Warning, "",
        "a policy comparing a column with the user id filters every statement by it: without an index, every query scans the whole table";
    /// A privilege on a table with row-level security that no permissive policy of the role
    /// uses.
    UnusedGrant = "unused-grant", Warning, "",
        "on a table with row-level security a privilege no policy of the role uses gives nothing but a misleading grant (and access the moment someone adds a policy)";
    /// A login role that bypasses row-level security (superuser, BYPASSRLS, owner of a table
    /// that does not force it) or holds grants of its own.
    LoginRole = "login-role", Error, "",
        "a login role that bypasses row-level security (superuser, BYPASSRLS, table owner) or holds grants of its own makes the policies decoration";
}
