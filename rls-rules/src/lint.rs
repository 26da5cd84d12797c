//! The lints of `gen-migrations lint`: their names (what `#[allow_lint(name, ...)]` accepts),
//! levels and reasons. Here rather than in rls-core so that the derive refuses a misspelt
//! name at compile time from the same list the linter reports.

/// How bad a finding is. `lint` exits 1 on an error, and on a warning with `--deny warnings`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Level {
    Info,
    Warning,
    Error,
}

impl Level {
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
            pub const ALL: &'static [Lint] = &[$(Lint::$variant),*];
            /// The names `#[allow_lint]` accepts, in declaration order.
            pub const NAMES: &'static [&'static str] = &[$($name),*];

            /// The kebab-case name, as reported and as written in `#[allow_lint]`.
            pub const fn name(self) -> &'static str {
                match self { $(Lint::$variant => $name,)* }
            }

            pub fn from_name(name: &str) -> Option<Lint> {
                match name { $($name => Some(Lint::$variant),)* _ => None }
            }

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
    UnindexedForeignKey = "unindexed-foreign-key", Info, "0001",
        "deleting or updating a referenced row scans the whole referencing table, and joins along the key cannot use an index";
    AuthRlsInitplan = "auth-rls-initplan", Warning, "0003",
        "a function called outside `(select ...)` in a policy is evaluated once per row instead of once per statement, and an index on the compared column cannot be used";
    MultiplePermissivePolicies = "multiple-permissive-policies", Warning, "0006",
        "every permissive policy for the role and command is evaluated for every row and OR-ed: one policy with both conditions is faster and easier to audit";
    PolicyExistsRlsDisabled = "policy-exists-rls-disabled", Error, "0007",
        "the policies are ignored while row-level security is disabled: every role with a grant sees and changes every row";
    RlsEnabledNoPolicy = "rls-enabled-no-policy", Info, "0008",
        "row-level security without a policy denies every row to every role but the owner; fine for a private table, a mistake otherwise";
    DuplicateIndex = "duplicate-index", Warning, "0009",
        "two identical indexes cost twice on every write and help no read";
    SecurityDefinerView = "security-definer-view", Error, "0010",
        "a view runs with its owner's privileges unless it is `security_invoker`, so the policies of the tables it reads are checked against the owner, not the user";
    FunctionSearchPathMutable = "function-search-path-mutable", Warning, "0011",
        "a function without a fixed search_path resolves names through the caller's search_path, which a caller can point at objects of their own";
    RlsDisabledExposedTable = "rls-disabled-exposed-table", Error, "0013",
        "a session role holds privileges on a table without row-level security: every user reads or changes every row";
    UserMetadataInPolicy = "user-metadata-in-policy", Error, "0015",
        "`user_metadata` (`raw_user_meta_data`) is editable by the user it describes: a policy that trusts it lets users grant themselves access";
    PolicyAlwaysTrue = "policy-always-true", Warning, "0024",
        "a write policy whose condition is always true lets every user of its roles change every row";
    SecurityDefinerFunctionExecutable = "security-definer-function-executable", Warning, "0028/0029",
        "a SECURITY DEFINER function runs with its owner's privileges, bypassing the policies, and a session role may call it";
    UserIdNonTextColumn = "user-id-non-text-column", Error, "",
        "auth.user_id() is text: compared with a column of another type, the comparison fails or casts the column, and the column's index is not used";
    UnindexedPolicyColumn = "unindexed-policy-column", Warning, "",
        "a policy comparing a column with the user id filters every statement by it: without an index, every query scans the whole table";
    UnusedGrant = "unused-grant", Warning, "",
        "on a table with row-level security a privilege no policy of the role uses gives nothing but a misleading grant (and access the moment someone adds a policy)";
    LoginRole = "login-role", Error, "",
        "a login role that bypasses row-level security (superuser, BYPASSRLS, table owner) or holds grants of its own makes the policies decoration";
}
