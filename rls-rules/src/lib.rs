//! The rules of the schema model that both `#[derive(Table)]` (at compile time, on attributes)
//! and `rls-core` (at run time, on models built by hand or loaded from a snapshot) apply.
//! Written once here so that the two cannot drift apart. No dependencies: the derive compiles
//! it on every build.

pub mod lint;

/// Defines one of the model's small enums together with its words: the word users write in
/// an attribute (`for = select`), the SQL keyword the renderer writes, and the variant's name
/// (the derive emits `Command::Select`).
macro_rules! words {
    (
        $(#[$meta:meta])*
        pub enum $name:ident { $($(#[$vmeta:meta])* $variant:ident = $word:literal => $keyword:literal,)* }
    ) => {
        $(#[$meta])*
        #[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
        #[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
        pub enum $name { $($(#[$vmeta])* $variant,)* }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),*];
            /// The words an attribute accepts, in declaration order (for error messages).
            pub const WORDS: &'static [&'static str] = &[$($word),*];

            /// The word written in an attribute.
            pub const fn word(self) -> &'static str {
                match self { $($name::$variant => $word,)* }
            }

            pub fn from_word(word: &str) -> Option<$name> {
                match word { $($word => Some($name::$variant),)* _ => None }
            }

            /// The SQL spelling.
            pub const fn keyword(self) -> &'static str {
                match self { $($name::$variant => $keyword,)* }
            }

            /// The variant's Rust name, for code that names it (`Command::Select`).
            pub const fn variant(self) -> &'static str {
                match self { $($name::$variant => stringify!($variant),)* }
            }
        }
    };
}

words! {
    /// The command a policy applies to (`for = select`).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
    pub enum Command {
        All = "all" => "ALL",
        Select = "select" => "SELECT",
        Insert = "insert" => "INSERT",
        Update = "update" => "UPDATE",
        Delete = "delete" => "DELETE",
    }
}

words! {
    /// How a policy combines with the others (`as = restrictive`).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub enum PolicyKind {
        Permissive = "permissive" => "PERMISSIVE",
        Restrictive = "restrictive" => "RESTRICTIVE",
    }
}

words! {
    /// A table privilege (`privileges = [select, update]`).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
    pub enum Privilege {
        Select = "select" => "SELECT",
        Insert = "insert" => "INSERT",
        Update = "update" => "UPDATE",
        Delete = "delete" => "DELETE",
    }
}

words! {
    /// How an identity column is generated (`identity = always`).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub enum Identity {
        ByDefault = "by_default" => "BY DEFAULT",
        Always = "always" => "ALWAYS",
    }
}

words! {
    /// What a foreign key does when its target row goes (`on_delete = cascade`).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub enum FkAction {
        NoAction = "no_action" => "NO ACTION",
        Restrict = "restrict" => "RESTRICT",
        Cascade = "cascade" => "CASCADE",
        SetNull = "set_null" => "SET NULL",
        SetDefault = "set_default" => "SET DEFAULT",
    }
}

impl Command {
    /// PostgreSQL refuses USING on an INSERT policy: there is no existing row to filter.
    pub const fn allows_using(self) -> bool {
        !matches!(self, Command::Insert)
    }

    /// PostgreSQL refuses WITH CHECK on SELECT and DELETE policies: they write no row.
    pub const fn allows_with_check(self) -> bool {
        matches!(self, Command::All | Command::Insert | Command::Update)
    }

    /// The table privileges a policy for this command makes usable. Also what the words of
    /// `#[grant(privileges = [...])]` stand for: `all` is the four of them.
    pub const fn privileges(self) -> &'static [Privilege] {
        match self {
            Command::All => &[
                Privilege::Select,
                Privilege::Insert,
                Privilege::Update,
                Privilege::Delete,
            ],
            Command::Select => &[Privilege::Select],
            Command::Insert => &[Privilege::Insert],
            Command::Update => &[Privilege::Update],
            Command::Delete => &[Privilege::Delete],
        }
    }

    /// What is wrong with a policy for this command that has (or lacks) these clauses.
    pub const fn clause_fault(self, using: bool, with_check: bool) -> Option<ClauseFault> {
        if using && !self.allows_using() {
            Some(ClauseFault::Using(self))
        } else if with_check && !self.allows_with_check() {
            Some(ClauseFault::WithCheck(self))
        } else if !using && !with_check {
            Some(ClauseFault::Neither)
        } else {
            None
        }
    }
}

/// A policy's clauses that PostgreSQL (or the model) refuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClauseFault {
    /// USING on a command that has no existing row (INSERT).
    Using(Command),
    /// WITH CHECK on a command that writes no row (SELECT, DELETE).
    WithCheck(Command),
    /// Neither clause: PostgreSQL accepts it, and it lets no row through.
    Neither,
}

impl ClauseFault {
    /// The explanation and what to do, worded for the attribute's keys.
    pub fn message(self) -> String {
        match self {
            ClauseFault::Using(c) => format!(
                "an {} policy cannot have `using` (PostgreSQL rejects it): new rows are checked with `with_check`; rename `using` to `with_check`",
                c.keyword()
            ),
            ClauseFault::WithCheck(c) => format!(
                "a {} policy cannot have `with_check` (PostgreSQL rejects it): existing rows are filtered with `using`; rename `with_check` to `using`",
                c.keyword()
            ),
            ClauseFault::Neither => "a policy needs `using` (which existing rows it applies to), `with_check` (which new rows are allowed) or both: PostgreSQL accepts a policy with neither, but it lets no row through, which is almost always a forgotten clause; write `using = false` to deny everything on purpose".into(),
        }
    }
}

/// What a table the migrations do not create (`#[table(existing)]`) may not declare: the
/// attribute words of the things a migration would have to make on it. Keys (`primary_key`,
/// `unique`) may be declared: they say what the table has, for the foreign keys that
/// reference it, and create nothing.
pub const EXISTING_TABLE_REFUSES: &[&str] = &[
    "index",
    "check",
    "references",
    "default",
    "identity",
    "renamed_from",
];

/// Why `what` (one of [`EXISTING_TABLE_REFUSES`]) is refused on an existing table, and the fix.
pub fn existing_table_fault(what: &str) -> String {
    format!(
        "`{what}` on an `existing` table: the migrations never create, alter or drop a table they do not create, so they would not make it; remove `{what}` (an existing table's fields only declare the columns its policies read)"
    )
}

/// The name of a `#[crud_policy]` policy, as Drizzle's `crudPolicy` names it:
/// `crud-<role>[-<role>...]-policy-<command>`.
pub fn crud_policy_name<S: AsRef<str>>(
    roles: impl IntoIterator<Item = S>,
    command: Command,
) -> String {
    let mut name = String::from("crud-");
    for role in roles {
        name.push_str(role.as_ref());
        name.push('-');
    }
    name.push_str("policy-");
    name.push_str(command.word());
    name
}

/// Whether `columns` are a key of a table: exactly its primary key or one of `unique` (the
/// column lists of its unique constraints, and of its unique indexes where those count).
/// What a foreign key may reference, and what makes a column handle unique.
pub fn is_key<'a, C, S>(
    columns: &[C],
    primary_key: &[S],
    unique: impl IntoIterator<Item = &'a [S]>,
) -> bool
where
    C: AsRef<str>,
    S: AsRef<str> + 'a,
{
    let same = |key: &[S]| {
        key.len() == columns.len()
            && key
                .iter()
                .zip(columns)
                .all(|(k, c)| k.as_ref() == c.as_ref())
    };
    (!primary_key.is_empty() && same(primary_key)) || unique.into_iter().any(same)
}

/// The integer types an identity column may have (its sequence's values).
pub const IDENTITY_TYPES: &[&str] = &["smallint", "integer", "bigint"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_round_trip() {
        for c in Command::ALL {
            assert_eq!(Command::from_word(c.word()), Some(*c));
        }
        assert_eq!(FkAction::from_word("set_null"), Some(FkAction::SetNull));
        assert_eq!(FkAction::SetNull.keyword(), "SET NULL");
        assert_eq!(Identity::ByDefault.variant(), "ByDefault");
        assert_eq!(Identity::WORDS, ["by_default", "always"]);
        assert_eq!(Command::from_word("Select"), None);
    }

    #[test]
    fn crud_name() {
        assert_eq!(
            crud_policy_name(["authenticated", "EDITOR"], Command::Update),
            "crud-authenticated-EDITOR-policy-update"
        );
    }

    #[test]
    fn clauses() {
        assert_eq!(
            Command::Insert.clause_fault(true, true),
            Some(ClauseFault::Using(Command::Insert))
        );
        assert_eq!(
            Command::Delete.clause_fault(true, true),
            Some(ClauseFault::WithCheck(Command::Delete))
        );
        assert_eq!(
            Command::All.clause_fault(false, false),
            Some(ClauseFault::Neither)
        );
        assert_eq!(Command::Update.clause_fault(true, false), None);
    }

    #[test]
    fn keys() {
        let pk = ["a", "b"];
        let uniques: [&[&str]; 1] = [&["c"]];
        assert!(is_key(&["a", "b"], &pk, uniques));
        assert!(is_key(&[String::from("c")], &pk, uniques));
        assert!(!is_key(&["b", "a"], &pk, uniques));
        assert!(!is_key(&["a"], &pk, uniques));
        assert!(!is_key::<&str, &str>(&[], &[], []));
    }
}
