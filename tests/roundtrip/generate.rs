//! Random schemas (A) and random changes to them (B), for the migration roundtrip test.
//!
//! Everything here builds owned `TableDef`s (`Cow::Owned`) from a deterministic PRNG, so a
//! pair is reproduced from its seed alone. The generator keeps its schemas valid for
//! PostgreSQL (see [`validate`]): a schema it cannot keep valid is a generator bug and
//! panics; a schema `pgrls::check` refuses is skipped by the caller.

use rls_core::model::{Check, ColumnDef, DefaultExpr};
use rls_core::model::{
    CmpOp, Command, EnumType, Expr, ExprOp, FkAction, ForeignKey, Grant, Identity, Index, Literal,
    Policy, PolicyKind, PolicyName, Privilege, Role, RoleKind, SqlType, Str, TableDef, TypeName,
    Unique,
};
use std::borrow::Cow;

#[path = "cross.rs"]
mod cross;
pub use cross::features;
use cross::{Reads, reads_percent};

// ---------------------------------------------------------------------------------------
// Known bugs of the diff / renderer. While a flag is true the generator stays away from the
// case; flip it to false once the bug is fixed (see the report in tests/migration_roundtrip.rs).
// The flags of fixed bugs are removed with the avoidance code; the ones below are all false
// (`shapes` at the end counts the shapes of the bugs fixed since).
// ---------------------------------------------------------------------------------------

/// BUG 1: a unique constraint on exactly the primary key's columns. `CREATE TABLE` silently
/// leaves it out (PostgreSQL drops an index constraint equal to the primary key), while
/// `ALTER TABLE ... ADD CONSTRAINT` creates it; the diff then drops a constraint that does
/// not exist, or a migrated database has one that a created one lacks.
pub const AVOID_UNIQUE_ON_PRIMARY_KEY: bool = false;

/// BUG 2: an enum type in a schema that no table of the model lives in. Neither
/// `sql::migration` nor the diff creates the schema (only the tables' schemas are
/// created): `CREATE TYPE "app"."e" ...` fails with `schema "app" does not exist`.
pub const AVOID_ENUM_SCHEMA_WITHOUT_TABLE: bool = false;

/// BUG 5: a new table with a foreign key to an existing table that the same migration
/// changes: CREATE TABLE (the foreign key inline) runs in phase CreateTables, before the
/// kept table's ADD CONSTRAINT ... PRIMARY KEY / UNIQUE (AddKeys) and ALTER COLUMN ... TYPE
/// (Columns). A key added there fails with `there is no unique constraint matching given
/// keys for referenced table`; a key column retyped there fails with `foreign key
/// constraint ... cannot be implemented ... incompatible types: text and e`.
pub const AVOID_NEW_TABLE_FK_TO_CHANGED_TABLE: bool = false;

/// BUG 5b: a foreign key added to an existing table (or created with a new table) that
/// points at a unique index the same migration creates: the Indexes phase comes after
/// AddForeignKeys, so ADD CONSTRAINT ... FOREIGN KEY fails with `there is no unique
/// constraint matching given keys`.
pub const AVOID_FK_TO_NEW_UNIQUE_INDEX: bool = false;

/// BUG 9: a crud policy whose roles change (so it is renamed: ALTER POLICY ... RENAME TO)
/// and which must also be dropped and created again (its kind changes, or it loses USING
/// or WITH CHECK): the diff emits the DROP POLICY under the old name, then still renames
/// the policy it has dropped: `policy "crud-...-policy-update" for table "t" does not
/// exist`. Only reachable with models the derive cannot write (a restrictive crud policy,
/// or a crud policy that lost a clause), e.g. hand-edited snapshots.
pub const AVOID_CRUD_RENAME_WITH_RECREATE: bool = false;

/// BUG 6: an identity column changed to a non-integer type (and so no longer an identity):
/// the diff emits ALTER COLUMN TYPE before DROP IDENTITY, and PostgreSQL refuses `identity
/// column type must be smallint, integer, or bigint`.
pub const AVOID_IDENTITY_RETYPED_TO_NON_INTEGER: bool = false;

/// BUG 12: an identity column that stops being one and gets a default or becomes nullable:
/// the diff emits SET DEFAULT / DROP NOT NULL before DROP IDENTITY, and PostgreSQL refuses
/// `column "c" of relation "t" is an identity column`.
pub const AVOID_DROP_IDENTITY_WITH_DEFAULT_OR_NULLABLE: bool = false;

/// BUG 11: a table dropped while it holds a foreign key to a key (primary key, unique) that
/// the same migration drops or changes on a kept table: DROP CONSTRAINT (DropConstraints)
/// runs before DROP TABLE (DropTables) and fails with `cannot drop constraint t_pkey on
/// table t because other objects depend on it`.
pub const AVOID_DROPPED_TABLE_FK_TO_CHANGED_KEY: bool = false;

/// BUG 13: a table with a foreign key to its own unique index (not a constraint):
/// `CREATE TABLE` carries the foreign key inline, before the `CREATE UNIQUE INDEX` that
/// follows it, and fails with `there is no unique constraint matching given keys for
/// referenced table` (sql::migration and the diff's new tables alike).
pub const AVOID_SELF_FK_TO_UNIQUE_INDEX: bool = false;

/// BUG 14: two tables dropped by one migration, the one listed first referenced by a
/// foreign key of the other: the DROP TABLEs follow the old list's order, and the first
/// fails with `cannot drop table t because other objects depend on it`.
pub const AVOID_DROP_REFERENCED_TABLE_FIRST: bool = false;

/// BUG 15: a policy kept under its name (ALTER POLICY ... USING / WITH CHECK) whose old
/// expression names a column the migration drops: ALTER POLICY (phase Policies) comes
/// after DROP COLUMN, which fails with `cannot drop column c of table t because other
/// objects depend on it` (the policy). The same for a crud policy paired with a renamed one
/// (its roles changed). Reachable with the derive: a crud_policy moved from a dropped column
/// to another one.
pub const AVOID_ALTERED_POLICY_OVER_DROPPED_COLUMN: bool = false;

/// BUG 7: a check constraint over a column whose type changes between numeric and double
/// precision: PostgreSQL re-parses the check from its old text, casts included
/// (`c > ((10)::numeric)::double precision`), so the migrated catalog differs from a
/// created one (`c > (10)::double precision`). The diff rebuilds policies over retyped
/// columns, not checks.
pub const AVOID_CHECK_OVER_FLOAT_RETYPED_COLUMN: bool = false;

/// How often a generated name needs quoting.
const WEIRD_NAMES_PERCENT: usize = 8;

// ---------------------------------------------------------------------------------------
// The PRNG
// ---------------------------------------------------------------------------------------

/// xorshift64*, seeded through splitmix64.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        Rng(if z == 0 { 1 } else { z })
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        assert!(n > 0);
        (self.next_u64() % n as u64) as usize
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }

    pub fn percent(&mut self, p: usize) -> bool {
        self.below(100) < p
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
    }
}

// ---------------------------------------------------------------------------------------
// Model helpers
// ---------------------------------------------------------------------------------------

pub fn s(x: impl Into<String>) -> Str {
    Cow::Owned(x.into())
}

fn builtin(name: &str) -> SqlType {
    SqlType {
        name: TypeName::Builtin(s(name)),
        array: false,
    }
}

/// What kind of value a column holds, as far as the generator cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// smallint (1), integer (2), bigint (3).
    Int(u8),
    Float,
    Numeric,
    Text,
    Varchar(u32),
    Bool,
    Jsonb,
    Uuid,
    Timestamptz,
    Date,
    TextArray,
    Enum,
    EnumArray,
    Other,
}

pub fn kind(ty: &SqlType) -> Kind {
    match &ty.name {
        TypeName::Enum(_) if !ty.array => Kind::Enum,
        TypeName::Enum(_) => Kind::EnumArray,
        TypeName::Builtin(n) if ty.array => {
            if n == "text" {
                Kind::TextArray
            } else {
                Kind::Other
            }
        }
        TypeName::Builtin(n) => match &**n {
            "smallint" => Kind::Int(1),
            "integer" => Kind::Int(2),
            "bigint" => Kind::Int(3),
            "double precision" => Kind::Float,
            "numeric" => Kind::Numeric,
            "text" => Kind::Text,
            "boolean" => Kind::Bool,
            "jsonb" => Kind::Jsonb,
            "uuid" => Kind::Uuid,
            "timestamp with time zone" => Kind::Timestamptz,
            "date" => Kind::Date,
            other => match other
                .strip_prefix("varchar(")
                .and_then(|r| r.strip_suffix(')'))
                .and_then(|n| n.parse().ok())
            {
                Some(n) => Kind::Varchar(n),
                None => Kind::Other,
            },
        },
    }
}

fn is_number(k: Kind) -> bool {
    matches!(k, Kind::Int(_) | Kind::Float | Kind::Numeric)
}

fn is_text(k: Kind) -> bool {
    matches!(k, Kind::Text | Kind::Varchar(_))
}

fn enum_of(ty: &SqlType) -> Option<&EnumType> {
    match &ty.name {
        TypeName::Enum(e) => Some(e),
        TypeName::Builtin(_) => None,
    }
}

/// The columns an expression names.
pub fn expr_columns(e: &Expr) -> Vec<&str> {
    e.ops
        .iter()
        .filter_map(|op| match op {
            ExprOp::Column(c) => Some(&**c),
            _ => None,
        })
        .collect()
}

fn policy_columns(p: &Policy) -> Vec<&str> {
    p.using
        .iter()
        .chain(p.with_check.iter())
        .flat_map(expr_columns)
        .collect()
}

fn expr_mentions_string(e: &Expr, text: &str) -> bool {
    e.ops
        .iter()
        .any(|op| matches!(op, ExprOp::Literal(Literal::String(v)) if v == text))
}

fn rename_in_expr(e: &mut Expr, from: &str, to: &str) {
    for op in e.ops.to_mut().iter_mut() {
        if let ExprOp::Column(c) = op
            && c == from
        {
            *c = s(to);
        }
    }
}

fn rename_in_list(list: &mut Cow<'static, [Str]>, from: &str, to: &str) {
    if list.iter().any(|c| c == from) {
        for c in list.to_mut().iter_mut() {
            if c == from {
                *c = s(to);
            }
        }
    }
}

/// Column lists that foreign keys (of any table) point at in table `schema.name`.
fn targeted_keys(tables: &[TableDef], schema: &str, name: &str) -> Vec<Vec<Str>> {
    tables
        .iter()
        .flat_map(|t| t.foreign_keys.iter())
        .filter(|f| f.target_schema == schema && f.target_table == name)
        .map(|f| f.target_columns.to_vec())
        .collect()
}

/// Columns of table `i` that a type change must leave alone: those in its own foreign keys
/// and those other keys point at.
fn fk_bound_columns(tables: &[TableDef], i: usize) -> Vec<Str> {
    let t = &tables[i];
    let mut out: Vec<Str> = t
        .foreign_keys
        .iter()
        .flat_map(|f| f.columns.iter().cloned())
        .collect();
    out.extend(
        targeted_keys(tables, &t.schema, &t.name)
            .into_iter()
            .flatten(),
    );
    out
}

/// The table of `a` that `t` (a table of B) continues, if any.
fn a_table_of<'a>(a: &'a [TableDef], t: &TableDef) -> Option<&'a TableDef> {
    let name = t.renamed_from.as_deref().unwrap_or(&t.name);
    a.iter().find(|o| o.schema == t.schema && o.name == name)
}

// ---------------------------------------------------------------------------------------
// The generator
// ---------------------------------------------------------------------------------------

pub struct Gen {
    pub rng: Rng,
    pair: usize,
    counter: usize,
    /// The enum types as they are now (B's, once mutations ran).
    pub enums: Vec<EnumType>,
    use_app: bool,
    /// What the policies drawn now may read besides their own row (set for the table whose
    /// policies are drawn).
    reads: Reads,
    /// Percent of policy atoms that read elsewhere (see `cross::reads_percent`).
    reads_percent: usize,
    /// Every lookup name drawn in the pair, for new lookups to take again now and then.
    lookup_names: Vec<Str>,
}

/// What [`Gen::save`] keeps.
pub type Saved = (Rng, usize, Vec<EnumType>, Vec<Str>);

/// The custom roles of pair `pair`: unique to the pair, so that the migrations must create
/// them (roles are global to the cluster, and the test drops them after each pair).
pub fn custom_roles(pair: usize) -> Vec<String> {
    vec![format!("rr{pair}_ed"), format!("rr{pair}_vw")]
}

impl Gen {
    pub fn new(seed: u64, pair: usize) -> Gen {
        let mixed = seed ^ (pair as u64 + 1).wrapping_mul(0xD1B5_4A32_D192_ED03);
        Gen {
            rng: Rng::new(mixed),
            pair,
            counter: 0,
            enums: Vec::new(),
            use_app: false,
            reads: Reads::default(),
            reads_percent: reads_percent(),
            lookup_names: Vec::new(),
        }
    }

    /// State to restart B's mutations from.
    pub fn save(&self) -> Saved {
        (
            self.rng.clone(),
            self.counter,
            self.enums.clone(),
            self.lookup_names.clone(),
        )
    }

    /// Back to `saved`, with the PRNG moved on so that the next attempt differs.
    pub fn restore(&mut self, saved: &Saved, attempt: usize) {
        self.rng = Rng::new(saved.0.clone().next_u64() ^ attempt as u64);
        self.counter = saved.1;
        self.enums = saved.2.clone();
        self.lookup_names = saved.3.clone();
    }

    /// A name not used before in the pair; now and then one that needs quoting (upper
    /// case, a space, quotes, a backslash, non-ASCII), to exercise the quoting everywhere.
    fn fresh(&mut self, prefix: &str) -> String {
        self.counter += 1;
        let n = self.counter;
        if !self.rng.percent(WEIRD_NAMES_PERCENT) {
            return format!("{prefix}{n}");
        }
        match self.rng.below(4) {
            0 => format!("{}{n}", prefix.to_uppercase()),
            1 => format!("{prefix}{n} \"q'"),
            2 => format!("{prefix}{n}\\x"),
            _ => format!("{prefix}{n}é"),
        }
    }

    fn roles_pool(&self) -> Vec<Role> {
        let custom = custom_roles(self.pair);
        vec![
            Role::AUTHENTICATED,
            Role::ANONYMOUS,
            Role {
                name: s(custom[0].clone()),
                kind: RoleKind::Created,
                // Roles are global to the cluster both databases share: one set of options.
                options: Default::default(),
            },
            Role {
                name: s(custom[1].clone()),
                kind: RoleKind::Created,
                // Roles are global to the cluster both databases share: one set of options.
                options: Default::default(),
            },
        ]
    }

    fn random_roles(&mut self) -> Vec<Role> {
        let r = self.rng.below(100);
        if r < 4 {
            return vec![Role::PUBLIC];
        }
        if r < 6 {
            return vec![Role::CURRENT_USER];
        }
        let mut pool = self.roles_pool();
        self.rng.shuffle(&mut pool);
        pool.truncate(if self.rng.percent(70) { 1 } else { 2 });
        pool
    }

    fn new_enum(&mut self) -> EnumType {
        let schema = if self.use_app && self.rng.percent(40) {
            "app"
        } else {
            "public"
        };
        let n = self.rng.range(2, 4);
        let values = (0..n).map(|_| s(self.fresh("v"))).collect::<Vec<_>>();
        let e = EnumType {
            schema: s(schema),
            name: s(self.fresh("e")),
            values: Cow::Owned(values),
        };
        self.enums.push(e.clone());
        e
    }

    fn random_type(&mut self) -> SqlType {
        match self.rng.below(16) {
            0 => builtin("bigint"),
            1 => builtin("integer"),
            2 => builtin("smallint"),
            3 => builtin("text"),
            4 => builtin("boolean"),
            5 => builtin("double precision"),
            6 => builtin("numeric"),
            7 => builtin("jsonb"),
            8 => builtin("uuid"),
            9 => builtin("timestamp with time zone"),
            10 => builtin("date"),
            11 => SqlType {
                name: TypeName::Builtin(s("text")),
                array: true,
            },
            12 => builtin(&format!("varchar({})", self.rng.pick(&[8, 80, 255]))),
            n => {
                if self.enums.is_empty() {
                    builtin("text")
                } else {
                    let e = self.rng.pick(&self.enums).clone();
                    SqlType {
                        name: TypeName::Enum(e),
                        // Now and then an array of the enum.
                        array: n == 15 && self.rng.percent(50),
                    }
                }
            }
        }
    }

    fn random_default(&mut self, ty: &SqlType) -> Option<DefaultExpr> {
        if self.rng.percent(3) {
            return Some(DefaultExpr::Literal(Literal::Null));
        }
        let lit = |l: Literal| Some(DefaultExpr::Literal(l));
        match kind(ty) {
            Kind::Int(_) => lit(Literal::Number(s(format!(
                "{}",
                self.rng.below(200) as i64 - 50
            )))),
            Kind::Float | Kind::Numeric => lit(Literal::Number(s(*self
                .rng
                .pick(&["1.5", "-2.25", "0", "100"])))),
            Kind::Text => match self.rng.below(3) {
                0 => Some(DefaultExpr::AuthUserId),
                1 => lit(Literal::String(s("it's"))),
                _ => lit(Literal::String(s("x"))),
            },
            Kind::Varchar(_) => {
                if self.rng.percent(30) {
                    Some(DefaultExpr::AuthUserId)
                } else {
                    lit(Literal::String(s("ab")))
                }
            }
            Kind::Bool => lit(Literal::Bool(self.rng.percent(50))),
            Kind::Jsonb => lit(Literal::String(s("{}"))),
            Kind::Uuid => Some(DefaultExpr::Sql(s("gen_random_uuid()"))),
            Kind::Timestamptz => Some(DefaultExpr::Now),
            Kind::Date => lit(Literal::String(s("2024-01-31"))),
            Kind::TextArray | Kind::EnumArray => lit(Literal::String(s("{}"))),
            Kind::Enum => {
                let e = enum_of(ty).expect("an enum");
                let v = self.rng.pick(&e.values).clone();
                lit(Literal::String(v))
            }
            Kind::Other => None,
        }
    }

    /// A new column: `ty` or a random type; with `extras`, maybe a default or an identity.
    fn new_column(&mut self, ty: Option<SqlType>, extras: bool) -> ColumnDef {
        let ty = ty.unwrap_or_else(|| self.random_type());
        let mut c = ColumnDef {
            name: s(self.fresh("c")),
            ty,
            nullable: self.rng.percent(40),
            default: None,
            identity: None,
            policy_index: !self.rng.percent(10),
            renamed_from: None,
        };
        if extras {
            if matches!(kind(&c.ty), Kind::Int(_)) && self.rng.percent(20) {
                c.identity = Some(self.random_identity());
                c.nullable = false;
            } else if self.rng.percent(30) {
                c.default = self.random_default(&c.ty.clone());
            }
        }
        c
    }

    fn random_identity(&mut self) -> Identity {
        if self.rng.percent(50) {
            Identity::ByDefault
        } else {
            Identity::Always
        }
    }

    fn number_for(&mut self, k: Kind) -> Literal {
        let n = match k {
            Kind::Int(_) => format!("{}", self.rng.below(100) as i64 - 20),
            _ => (*self.rng.pick(&["0", "1.5", "-3.25", "10"])).to_string(),
        };
        Literal::Number(s(n))
    }

    fn cmp_op(&mut self) -> CmpOp {
        *self.rng.pick(&[
            CmpOp::Eq,
            CmpOp::Ne,
            CmpOp::Lt,
            CmpOp::Le,
            CmpOp::Gt,
            CmpOp::Ge,
        ])
    }

    /// One comparison or test over `cols`; for checks, over number columns only.
    fn atom(&mut self, cols: &[ColumnDef], check: bool) -> Option<Vec<ExprOp>> {
        let of = |f: &dyn Fn(Kind) -> bool| -> Vec<ColumnDef> {
            cols.iter().filter(|c| f(kind(&c.ty))).cloned().collect()
        };
        let numbers = of(&is_number);
        if check {
            if numbers.is_empty() {
                return None;
            }
            let c = self.rng.pick(&numbers).clone();
            let lit = self.number_for(kind(&c.ty));
            let op = self.cmp_op();
            return Some(vec![
                ExprOp::Column(c.name),
                ExprOp::Literal(lit),
                ExprOp::Cmp(op),
            ]);
        }
        if self.rng.percent(self.reads_percent)
            && let Some(ops) = self.cross_atom(cols)
        {
            return Some(ops);
        }
        let texts = of(&is_text);
        let bools = of(&|k| k == Kind::Bool);
        let enums = of(&|k| k == Kind::Enum);
        for _ in 0..10 {
            match self.rng.below(9) {
                0 => return Some(vec![ExprOp::Literal(Literal::Bool(self.rng.percent(70)))]),
                1..=3 if !texts.is_empty() => {
                    let c = self.rng.pick(&texts).name.clone();
                    let op = if self.rng.percent(85) {
                        CmpOp::Eq
                    } else {
                        CmpOp::Ne
                    };
                    return Some(if self.rng.percent(50) {
                        vec![ExprOp::AuthUserId, ExprOp::Column(c), ExprOp::Cmp(op)]
                    } else {
                        vec![ExprOp::Column(c), ExprOp::AuthUserId, ExprOp::Cmp(op)]
                    });
                }
                4 if !bools.is_empty() => {
                    let c = self.rng.pick(&bools).name.clone();
                    return Some(if self.rng.percent(50) {
                        vec![ExprOp::Column(c)]
                    } else {
                        vec![
                            ExprOp::Column(c),
                            ExprOp::Literal(Literal::Bool(self.rng.percent(50))),
                            ExprOp::Cmp(CmpOp::Eq),
                        ]
                    });
                }
                5 if !numbers.is_empty() => {
                    let c = self.rng.pick(&numbers).clone();
                    let lit = self.number_for(kind(&c.ty));
                    let op = self.cmp_op();
                    return Some(vec![
                        ExprOp::Column(c.name),
                        ExprOp::Literal(lit),
                        ExprOp::Cmp(op),
                    ]);
                }
                6 if !cols.is_empty() => {
                    let c = self.rng.pick(cols).name.clone();
                    let test = if self.rng.percent(50) {
                        ExprOp::IsNull
                    } else {
                        ExprOp::IsNotNull
                    };
                    return Some(vec![ExprOp::Column(c), test]);
                }
                7 | 8 if !enums.is_empty() => {
                    let c = self.rng.pick(&enums).clone();
                    let values = enum_of(&c.ty).expect("an enum").values.to_vec();
                    if self.rng.percent(70) {
                        let v = self.rng.pick(&values).clone();
                        return Some(vec![
                            ExprOp::Column(c.name),
                            ExprOp::Literal(Literal::String(v)),
                            ExprOp::Cmp(CmpOp::Eq),
                        ]);
                    }
                    let mut ops = vec![ExprOp::Column(c.name)];
                    let n = self.rng.range(1, values.len());
                    for v in &values[..n] {
                        ops.push(ExprOp::Literal(Literal::String(v.clone())));
                    }
                    ops.push(ExprOp::In(n as u16));
                    return Some(ops);
                }
                _ => {}
            }
        }
        Some(vec![ExprOp::Literal(Literal::Bool(true))])
    }

    fn expr_ops(&mut self, cols: &[ColumnDef], check: bool, depth: usize) -> Option<Vec<ExprOp>> {
        if depth == 0 || self.rng.percent(60) {
            return self.atom(cols, check);
        }
        match self.rng.below(5) {
            0 | 1 => {
                let mut ops = self.expr_ops(cols, check, depth - 1)?;
                ops.extend(self.expr_ops(cols, check, depth - 1)?);
                ops.push(ExprOp::And);
                Some(ops)
            }
            2 | 3 => {
                let mut ops = self.expr_ops(cols, check, depth - 1)?;
                ops.extend(self.expr_ops(cols, check, depth - 1)?);
                ops.push(ExprOp::Or);
                Some(ops)
            }
            _ => {
                let mut ops = self.expr_ops(cols, check, depth - 1)?;
                ops.push(ExprOp::Not);
                Some(ops)
            }
        }
    }

    fn expr(&mut self, cols: &[ColumnDef]) -> Expr {
        Expr {
            ops: Cow::Owned(
                self.expr_ops(cols, false, 2)
                    .expect("policy expressions exist"),
            ),
        }
    }

    fn check_expr(&mut self, cols: &[ColumnDef]) -> Option<Expr> {
        self.expr_ops(cols, true, 2).map(|ops| Expr {
            ops: Cow::Owned(ops),
        })
    }

    // -----------------------------------------------------------------------------------
    // Schema A
    // -----------------------------------------------------------------------------------

    pub fn schema(&mut self) -> Vec<TableDef> {
        self.use_app = self.rng.percent(25);
        for _ in 0..self.rng.range(1, 2) {
            self.new_enum();
        }
        let mut tables = Vec::new();
        for _ in 0..self.rng.range(1, 4) {
            let t = self.table(&tables);
            tables.push(t);
        }
        tables
    }

    fn table(&mut self, existing: &[TableDef]) -> TableDef {
        let schema = if self.use_app && self.rng.percent(40) {
            "app"
        } else {
            "public"
        };
        let name = self.fresh("t");
        let n = self.rng.range(1, 6);
        let mut columns: Vec<ColumnDef> = (0..n).map(|_| self.new_column(None, true)).collect();
        // Now and then a text column that policies compare with the user id ("owner"): what
        // a sub-select filters on and a lookup selects by.
        if self.rng.percent(30) {
            let mut owner = self.new_column(Some(builtin("text")), false);
            if self.rng.percent(50) {
                owner.default = Some(DefaultExpr::AuthUserId);
            }
            columns.push(owner);
        }
        let n = columns.len();
        let k = if n >= 2 && self.rng.percent(25) { 2 } else { 1 };
        let mut order: Vec<usize> = (0..n).collect();
        self.rng.shuffle(&mut order);
        order.truncate(k);
        order.sort();
        let primary_key: Vec<Str> = order
            .iter()
            .map(|&i| {
                columns[i].nullable = false;
                columns[i].name.clone()
            })
            .collect();
        let mut t = TableDef {
            schema: s(schema),
            name: s(name),
            columns: Cow::Owned(columns),
            primary_key: Cow::Owned(primary_key),
            uniques: Cow::Owned(Vec::new()),
            foreign_keys: Cow::Owned(Vec::new()),
            checks: Cow::Owned(Vec::new()),
            indexes: Cow::Owned(Vec::new()),
            policies: Cow::Owned(Vec::new()),
            grants: Cow::Owned(Vec::new()),
            enable_rls: false,
            force_rls: false,
            policy_indexes: true,
            disable_rls: false,
            existing: false,
            distribution: None,
            lookups: Default::default(),
            renamed_from: None,
            allowed_lints: Cow::Owned(Vec::new()),
        };
        if !existing.is_empty() && self.rng.percent(45) {
            let target = self.rng.pick(existing).clone();
            self.add_fk(&mut t, &target);
        }
        if self.rng.percent(30) {
            for _ in 0..self.rng.range(1, 2) {
                self.add_unique(&mut t);
            }
        }
        if self.rng.percent(30) {
            for _ in 0..self.rng.range(1, 2) {
                self.add_check(&mut t);
            }
        }
        if self.rng.percent(40) {
            for _ in 0..self.rng.range(1, 2) {
                self.add_index(&mut t);
            }
        }
        self.draw_lookups(&mut t, existing);
        self.reads = Reads::new(existing, existing.iter().chain([&t]));
        for _ in 0..self.rng.below(4) {
            self.add_policy(&mut t);
        }
        if self.rng.percent(25) {
            for _ in 0..self.rng.range(1, 2) {
                self.add_grant(&mut t);
            }
        }
        t.enable_rls = self.rng.percent(20);
        // Lookups are refused on FORCE ROW LEVEL SECURITY tables.
        t.force_rls = t.lookups.is_empty() && self.rng.percent(15);
        t.policy_indexes = !self.rng.percent(15);
        // disable_rls goes with no policy and no other switch (`check` refuses the rest).
        if t.policies.is_empty() && self.rng.percent(8) {
            t.disable_rls = true;
            t.enable_rls = false;
            t.force_rls = false;
        }
        t
    }

    /// A foreign key from `t` to `target`'s primary key or one of its unique keys, on
    /// reused columns of the same type or new ones.
    fn add_fk(&mut self, t: &mut TableDef, target: &TableDef) -> bool {
        let mut keys: Vec<Vec<Str>> = Vec::new();
        if !target.primary_key.is_empty() {
            keys.push(target.primary_key.to_vec());
        }
        keys.extend(target.uniques.iter().map(|u| u.columns.to_vec()));
        keys.extend(
            target
                .indexes
                .iter()
                .filter(|i| i.unique)
                .map(|i| i.columns.to_vec()),
        );
        if keys.is_empty() {
            return false;
        }
        let key = self.rng.pick(&keys).clone();
        let mut columns: Vec<Str> = Vec::new();
        for c in &key {
            let ty = target.column(c).expect("key column").ty.clone();
            let reuse = if self.rng.percent(30) {
                t.columns
                    .iter()
                    .find(|x| x.ty == ty && !columns.contains(&x.name))
                    .map(|x| x.name.clone())
            } else {
                None
            };
            match reuse {
                Some(name) => columns.push(name),
                None => {
                    let c = self.new_column(Some(ty), false);
                    columns.push(c.name.clone());
                    t.columns.to_mut().push(c);
                }
            }
        }
        if t.foreign_keys.iter().any(|f| *f.columns == *columns) {
            return false;
        }
        let on_delete = self.fk_action(40);
        let on_update = self.fk_action(80);
        t.foreign_keys.to_mut().push(ForeignKey {
            columns: Cow::Owned(columns),
            target_schema: target.schema.clone(),
            target_table: target.name.clone(),
            target_columns: Cow::Owned(key),
            on_delete,
            on_update,
        });
        true
    }

    fn fk_action(&mut self, no_action_percent: usize) -> FkAction {
        if self.rng.percent(no_action_percent) {
            return FkAction::NoAction;
        }
        *self.rng.pick(&[
            FkAction::NoAction,
            FkAction::Restrict,
            FkAction::Cascade,
            FkAction::SetNull,
            FkAction::SetDefault,
        ])
    }

    fn some_columns(&mut self, t: &TableDef, max: usize) -> Vec<Str> {
        let mut names: Vec<Str> = t.columns.iter().map(|c| c.name.clone()).collect();
        self.rng.shuffle(&mut names);
        names.truncate(self.rng.range(1, max.min(names.len())));
        names
    }

    fn add_unique(&mut self, t: &mut TableDef) -> bool {
        // Now and then the primary key's columns in another order: PostgreSQL may tie a
        // foreign key to the one unique index over those columns it finds first.
        let columns = if t.primary_key.len() >= 2 && self.rng.percent(30) {
            t.primary_key.iter().rev().cloned().collect()
        } else {
            self.some_columns(t, 2)
        };
        if t.uniques.iter().any(|u| *u.columns == *columns)
            || (AVOID_UNIQUE_ON_PRIMARY_KEY && *columns == *t.primary_key)
        {
            return false;
        }
        t.uniques.to_mut().push(Unique {
            columns: Cow::Owned(columns),
        });
        true
    }

    fn add_check(&mut self, t: &mut TableDef) -> bool {
        let Some(expr) = self.check_expr(&t.columns) else {
            return false;
        };
        let name = if self.rng.percent(50) {
            None
        } else {
            Some(s(self.fresh("k")))
        };
        t.checks.to_mut().push(Check { name, expr });
        true
    }

    fn add_index(&mut self, t: &mut TableDef) -> bool {
        let columns = self.some_columns(t, 2);
        if t.indexes.iter().any(|i| *i.columns == *columns) {
            return false;
        }
        let name = if self.rng.percent(30) {
            Some(s(self.fresh("ix")))
        } else {
            None
        };
        t.indexes.to_mut().push(Index {
            name,
            columns: Cow::Owned(columns),
            unique: self.rng.percent(20),
        });
        true
    }

    fn add_policy(&mut self, t: &mut TableDef) -> bool {
        if self.rng.percent(50) {
            self.add_crud(t)
        } else {
            self.add_named(t)
        }
    }

    /// Drizzle's crudPolicy: select (USING read), insert (WITH CHECK modify), update (both
    /// modify), delete (USING modify).
    fn add_crud(&mut self, t: &mut TableDef) -> bool {
        let roles = self.random_roles();
        if t.policies
            .iter()
            .any(|p| p.name == PolicyName::Crud && *p.roles == *roles)
        {
            return false;
        }
        let cols = t.columns.to_vec();
        let read = self.rng.percent(75).then(|| self.expr(&cols));
        let modify = (read.is_none() || self.rng.percent(70)).then(|| self.expr(&cols));
        let policy = |command, using: Option<Expr>, with_check: Option<Expr>| Policy {
            name: PolicyName::Crud,
            kind: PolicyKind::Permissive,
            command,
            roles: Cow::Owned(roles.clone()),
            using,
            with_check,
        };
        let policies = t.policies.to_mut();
        if let Some(r) = read {
            policies.push(policy(Command::Select, Some(r), None));
        }
        if let Some(m) = modify {
            policies.push(policy(Command::Insert, None, Some(m.clone())));
            policies.push(policy(Command::Update, Some(m.clone()), Some(m.clone())));
            policies.push(policy(Command::Delete, Some(m), None));
        }
        true
    }

    fn random_command(&mut self) -> Command {
        *self.rng.pick(&[
            Command::All,
            Command::Select,
            Command::Insert,
            Command::Update,
            Command::Delete,
        ])
    }

    fn add_named(&mut self, t: &mut TableDef) -> bool {
        let mut p = Policy {
            name: PolicyName::Named(s(self.fresh("p"))),
            kind: if self.rng.percent(75) {
                PolicyKind::Permissive
            } else {
                PolicyKind::Restrictive
            },
            command: self.random_command(),
            roles: Cow::Owned(self.random_roles()),
            using: None,
            with_check: None,
        };
        let cols = t.columns.to_vec();
        if p.command.allows_using() && self.rng.percent(70) {
            p.using = Some(self.expr(&cols));
        }
        if p.command.allows_with_check() && (p.using.is_none() || self.rng.percent(50)) {
            p.with_check = Some(self.expr(&cols));
        }
        self.sanitize(&mut p, &cols);
        t.policies.to_mut().push(p);
        true
    }

    /// No clause the command refuses, and at least one clause.
    fn sanitize(&mut self, p: &mut Policy, cols: &[ColumnDef]) {
        if !p.command.allows_using() {
            p.using = None;
        }
        if !p.command.allows_with_check() {
            p.with_check = None;
        }
        if p.using.is_none() && p.with_check.is_none() {
            if p.command.allows_using() {
                p.using = Some(self.expr(cols));
            } else {
                p.with_check = Some(self.expr(cols));
            }
        }
    }

    fn random_privileges(&mut self) -> Vec<Privilege> {
        [
            Privilege::Select,
            Privilege::Insert,
            Privilege::Update,
            Privilege::Delete,
        ]
        .into_iter()
        .filter(|_| self.rng.percent(45))
        .collect()
    }

    fn add_grant(&mut self, t: &mut TableDef) -> bool {
        let role = if self.rng.percent(8) {
            Role::PUBLIC
        } else {
            let pool = self.roles_pool();
            self.rng.pick(&pool).clone()
        };
        if t.grants.iter().any(|g| g.role.name == role.name) {
            return false;
        }
        let privileges = self.random_privileges();
        t.grants.to_mut().push(Grant {
            role,
            privileges: Cow::Owned(privileges),
        });
        true
    }

    // -----------------------------------------------------------------------------------
    // Schema B: A with random changes
    // -----------------------------------------------------------------------------------

    /// Applies one random change to `b` (whose previous version is `a`); says what it did,
    /// or `None` when the change drawn does not apply.
    /// Applies one random change to `b` (whose previous version is `a`); says what it did
    /// (`kind: details`), or `None` when the change drawn does not apply.
    pub fn mutate(&mut self, a: &[TableDef], b: &mut Vec<TableDef>) -> Option<String> {
        let draw = if b.is_empty() { 0 } else { self.rng.below(38) };
        let (kind, done) = match draw {
            0 => ("add table", self.add_table(b)),
            1 => ("drop table", self.drop_table(b)),
            2 => ("rename table", self.rename_table(a, b)),
            3 | 4 => ("add column", self.add_column(b)),
            5 => ("drop column", self.drop_column(b)),
            6 => ("rename column", self.rename_column(a, b)),
            7 | 8 => ("change type", self.change_type(b)),
            9 => ("nullability", self.toggle_nullable(b)),
            10 => ("default", self.change_default(b)),
            11 => ("identity", self.change_identity(b)),
            12 => ("primary key", self.change_primary_key(b)),
            13 => ("unique", self.change_unique(b)),
            14 => ("add foreign key", self.add_foreign_key(b)),
            15 => ("drop foreign key", self.drop_foreign_key(b)),
            16 => ("foreign key actions", self.change_fk_action(b)),
            17 => ("check", self.change_check(b)),
            18 => ("index", self.change_index(b)),
            19 | 20 => ("enum values", self.change_enum(b)),
            21..=25 => ("policy", self.change_policy(b)),
            26 | 27 => ("add or drop policy", self.add_or_drop_policy(b)),
            28 | 29 => ("grants", self.change_grants(b)),
            30 | 31 => ("rls flags", self.change_rls(b)),
            32 => ("disable_rls", self.toggle_disable_rls(b)),
            33 => ("move table", self.move_table(b)),
            34 => ("policy index", self.toggle_policy_index(b)),
            35 | 36 => ("lookup", self.change_lookup(b)),
            _ => ("reading policy", self.add_reading_policy(b)),
        };
        // What B reads elsewhere kept valid (see `cross`).
        let repaired = self.repair(b);
        done.map(|d| {
            if repaired.is_empty() {
                format!("{kind}: {d}")
            } else {
                format!("{kind}: {d} [repair: {}]", repaired.join("; "))
            }
        })
    }

    fn pick_table(&mut self, b: &[TableDef]) -> usize {
        self.rng.below(b.len())
    }

    /// A table that `wanted` holds for, if any.
    fn pick_table_with(
        &mut self,
        b: &[TableDef],
        wanted: impl Fn(&TableDef) -> bool,
    ) -> Option<usize> {
        let candidates: Vec<usize> = (0..b.len()).filter(|&i| wanted(&b[i])).collect();
        (!candidates.is_empty()).then(|| *self.rng.pick(&candidates))
    }

    fn add_table(&mut self, b: &mut Vec<TableDef>) -> Option<String> {
        if b.len() >= 6 {
            return None;
        }
        let t = self.table(b);
        let what = format!("add table {}.{}", t.schema, t.name);
        b.push(t);
        Some(what)
    }

    fn drop_table(&mut self, b: &mut Vec<TableDef>) -> Option<String> {
        let i = self.pick_table(b);
        let t = b.remove(i);
        for o in b.iter_mut() {
            if o.foreign_keys
                .iter()
                .any(|f| f.target_schema == t.schema && f.target_table == t.name)
            {
                o.foreign_keys
                    .to_mut()
                    .retain(|f| !(f.target_schema == t.schema && f.target_table == t.name));
            }
        }
        Some(format!("drop table {}.{}", t.schema, t.name))
    }

    fn rename_table(&mut self, a: &[TableDef], b: &mut [TableDef]) -> Option<String> {
        let i = self.pick_table(b);
        if b[i].renamed_from.is_some() || a_table_of(a, &b[i]).is_none() {
            return None;
        }
        let (schema, old) = (b[i].schema.clone(), b[i].name.clone());
        let new = s(self.fresh("t"));
        b[i].renamed_from = Some(old.clone());
        b[i].name = new.clone();
        cross::follow_table(b, (&schema, &old), (&schema, &new));
        for t in b.iter_mut() {
            if t.foreign_keys
                .iter()
                .any(|f| f.target_schema == schema && f.target_table == old)
            {
                for f in t.foreign_keys.to_mut().iter_mut() {
                    if f.target_schema == schema && f.target_table == old {
                        f.target_table = new.clone();
                    }
                }
            }
        }
        Some(format!("rename table {schema}.{old} to {new}"))
    }

    /// To the other schema: the same name, another table (dropped and created).
    fn move_table(&mut self, b: &mut [TableDef]) -> Option<String> {
        if !self.use_app {
            return None;
        }
        let i = self.pick_table(b);
        let (from, name) = (b[i].schema.clone(), b[i].name.clone());
        let to = s(if from == "public" { "app" } else { "public" });
        if b.iter().any(|t| t.schema == to && t.name == name) {
            return None;
        }
        b[i].schema = to.clone();
        cross::follow_table(b, (&from, &name), (&to, &name));
        for t in b.iter_mut() {
            if t.foreign_keys
                .iter()
                .any(|f| f.target_schema == from && f.target_table == name)
            {
                for f in t.foreign_keys.to_mut().iter_mut() {
                    if f.target_schema == from && f.target_table == name {
                        f.target_schema = to.clone();
                    }
                }
            }
        }
        Some(format!("move table {from}.{name} to schema {to}"))
    }

    fn add_column(&mut self, b: &mut [TableDef]) -> Option<String> {
        let i = self.pick_table(b);
        let ty = if self.rng.percent(8) {
            let e = self.new_enum();
            Some(SqlType {
                name: TypeName::Enum(e),
                array: false,
            })
        } else {
            None
        };
        let c = self.new_column(ty, true);
        let what = format!(
            "add column {}.{}.{} {}",
            b[i].schema,
            b[i].name,
            c.name,
            rls_core::sql::sql_type(&c.ty)
        );
        b[i].columns.to_mut().push(c);
        Some(what)
    }

    fn drop_column(&mut self, b: &mut [TableDef]) -> Option<String> {
        let i = self.pick_table(b);
        let t = &b[i];
        if t.columns.len() < 2 {
            return None;
        }
        let bound = targeted_keys(b, &t.schema, &t.name).concat();
        let candidates: Vec<Str> = t
            .columns
            .iter()
            .map(|c| c.name.clone())
            .filter(|c| !t.primary_key.contains(c) && !bound.contains(c))
            .collect();
        if candidates.is_empty() {
            return None;
        }
        let col = self.rng.pick(&candidates).clone();
        let t = &mut b[i];
        t.columns.to_mut().retain(|c| c.name != col);
        t.uniques.to_mut().retain(|u| !u.columns.contains(&col));
        t.indexes.to_mut().retain(|x| !x.columns.contains(&col));
        t.foreign_keys
            .to_mut()
            .retain(|f| !f.columns.contains(&col));
        t.checks
            .to_mut()
            .retain(|k| !expr_columns(&k.expr).contains(&&*col));
        t.policies
            .to_mut()
            .retain(|p| !policy_columns(p).contains(&&*col));
        Some(format!("drop column {}.{}.{col}", t.schema, t.name))
    }

    fn rename_column(&mut self, a: &[TableDef], b: &mut [TableDef]) -> Option<String> {
        let i = self.pick_table(b);
        let old_table = a_table_of(a, &b[i])?;
        let candidates: Vec<Str> = b[i]
            .columns
            .iter()
            .filter(|c| c.renamed_from.is_none() && old_table.column(&c.name).is_some())
            .map(|c| c.name.clone())
            .collect();
        if candidates.is_empty() {
            return None;
        }
        let old = self.rng.pick(&candidates).clone();
        let new = self.fresh("c");
        let (schema, table) = (b[i].schema.clone(), b[i].name.clone());
        {
            let t = &mut b[i];
            for c in t.columns.to_mut().iter_mut() {
                if c.name == old {
                    c.renamed_from = Some(old.clone());
                    c.name = s(new.clone());
                }
            }
            rename_in_list(&mut t.primary_key, &old, &new);
            for u in t.uniques.to_mut().iter_mut() {
                rename_in_list(&mut u.columns, &old, &new);
            }
            for x in t.indexes.to_mut().iter_mut() {
                rename_in_list(&mut x.columns, &old, &new);
            }
            for f in t.foreign_keys.to_mut().iter_mut() {
                rename_in_list(&mut f.columns, &old, &new);
            }
            for k in t.checks.to_mut().iter_mut() {
                rename_in_expr(&mut k.expr, &old, &new);
            }
            for p in t.policies.to_mut().iter_mut() {
                for e in p.using.iter_mut().chain(p.with_check.iter_mut()) {
                    rename_in_expr(e, &old, &new);
                }
            }
        }
        cross::follow_column(b, (&schema, &table), &old, &new);
        for t in b.iter_mut() {
            if t.foreign_keys
                .iter()
                .any(|f| f.target_schema == schema && f.target_table == table)
            {
                for f in t.foreign_keys.to_mut().iter_mut() {
                    if f.target_schema == schema && f.target_table == table {
                        rename_in_list(&mut f.target_columns, &old, &new);
                    }
                }
            }
        }
        Some(format!("rename column {schema}.{table}.{old} to {new}"))
    }

    fn change_type(&mut self, b: &mut [TableDef]) -> Option<String> {
        let i = self.pick_table(b);
        let bound = fk_bound_columns(b, i);
        let t = &b[i];
        let j = self.rng.below(t.columns.len());
        let c = &t.columns[j];
        if bound.contains(&c.name) {
            return None;
        }
        let in_expr = t
            .policies
            .iter()
            .any(|p| policy_columns(p).contains(&&*c.name))
            || t.checks
                .iter()
                .any(|k| expr_columns(&k.expr).contains(&&*c.name));
        let to = match kind(&c.ty) {
            Kind::Int(1) => builtin(self.rng.pick::<&str>(&["integer", "bigint", "numeric"])),
            Kind::Int(2) => builtin(self.rng.pick::<&str>(&["bigint", "smallint", "numeric"])),
            Kind::Int(_) => builtin(self.rng.pick::<&str>(&["integer", "numeric"])),
            Kind::Float => builtin("numeric"),
            Kind::Numeric => builtin("double precision"),
            Kind::Text => {
                if !in_expr && !self.enums.is_empty() && self.rng.percent(25) {
                    let e = self.rng.pick(&self.enums).clone();
                    SqlType {
                        name: TypeName::Enum(e),
                        array: false,
                    }
                } else {
                    builtin(&format!("varchar({})", self.rng.pick(&[8, 80])))
                }
            }
            Kind::Varchar(n) => {
                if self.rng.percent(60) {
                    builtin("text")
                } else {
                    builtin(&format!("varchar({})", if n == 80 { 255 } else { 80 }))
                }
            }
            Kind::Enum => builtin("text"),
            _ => return None,
        };
        let from = rls_core::sql::sql_type(&c.ty);
        let t = &mut b[i];
        let c = &mut t.columns.to_mut()[j];
        c.ty = to;
        if !matches!(kind(&c.ty), Kind::Int(_)) {
            c.identity = None;
        }
        if c.identity.is_none() && (c.default.is_some() || self.rng.percent(20)) {
            c.default = if self.rng.percent(60) {
                self.random_default(&c.ty.clone())
            } else {
                None
            };
        }
        Some(format!(
            "change type of {}.{}.{} from {from} to {}",
            t.schema,
            t.name,
            c.name,
            rls_core::sql::sql_type(&c.ty)
        ))
    }

    fn toggle_nullable(&mut self, b: &mut [TableDef]) -> Option<String> {
        let i = self.pick_table(b);
        let t = &mut b[i];
        let j = self.rng.below(t.columns.len());
        let pk = t.primary_key.contains(&t.columns[j].name);
        let c = &mut t.columns.to_mut()[j];
        if pk || c.identity.is_some() {
            return None;
        }
        c.nullable = !c.nullable;
        Some(format!(
            "make {}.{}.{} {}",
            t.schema,
            t.name,
            c.name,
            if c.nullable { "nullable" } else { "NOT NULL" }
        ))
    }

    fn change_default(&mut self, b: &mut [TableDef]) -> Option<String> {
        let i = self.pick_table(b);
        let t = &mut b[i];
        let j = self.rng.below(t.columns.len());
        let c = &mut t.columns.to_mut()[j];
        if c.identity.is_some() {
            return None;
        }
        let new = if self.rng.percent(30) {
            None
        } else {
            self.random_default(&c.ty.clone())
        };
        if new == c.default {
            return None;
        }
        c.default = new;
        Some(format!(
            "change default of {}.{}.{} to {:?}",
            t.schema, t.name, c.name, c.default
        ))
    }

    fn change_identity(&mut self, b: &mut [TableDef]) -> Option<String> {
        let int = |c: &ColumnDef| matches!(kind(&c.ty), Kind::Int(_));
        let i = self.pick_table_with(b, |t| t.columns.iter().any(int))?;
        let t = &mut b[i];
        let ints: Vec<usize> = (0..t.columns.len())
            .filter(|&j| int(&t.columns[j]))
            .collect();
        let j = *self.rng.pick(&ints);
        let c = &mut t.columns.to_mut()[j];
        let what = match c.identity {
            None => {
                c.identity = Some(self.random_identity());
                c.nullable = false;
                c.default = None;
                "add identity"
            }
            Some(k) if self.rng.percent(50) => {
                c.identity = Some(match k {
                    Identity::Always => Identity::ByDefault,
                    Identity::ByDefault => Identity::Always,
                });
                "switch identity kind"
            }
            Some(_) => {
                c.identity = None;
                let pk = t.primary_key.contains(&c.name);
                if !pk && self.rng.percent(40) {
                    c.nullable = true;
                }
                if self.rng.percent(40) {
                    c.default = self.random_default(&c.ty.clone());
                }
                "drop identity"
            }
        };
        Some(format!(
            "{what} on {}.{}.{} ({:?}, nullable {}, default {:?})",
            t.schema, t.name, c.name, c.identity, c.nullable, c.default
        ))
    }

    fn change_primary_key(&mut self, b: &mut [TableDef]) -> Option<String> {
        let i = self.pick_table(b);
        let bound = targeted_keys(b, &b[i].schema, &b[i].name);
        let t = &mut b[i];
        if bound.iter().any(|k| **k == *t.primary_key) {
            return None;
        }
        // Now and then a unique key that a foreign key points at becomes the primary key.
        let targeted: Vec<Vec<Str>> = t
            .uniques
            .iter()
            .filter(|u| bound.iter().any(|k| **k == *u.columns))
            .map(|u| u.columns.to_vec())
            .collect();
        let columns = if !targeted.is_empty() && self.rng.percent(50) {
            self.rng.pick(&targeted).clone()
        } else {
            self.some_columns(t, 2)
        };
        if *columns == *t.primary_key
            || (AVOID_UNIQUE_ON_PRIMARY_KEY && t.uniques.iter().any(|u| *u.columns == *columns))
        {
            return None;
        }
        for c in t.columns.to_mut().iter_mut() {
            if columns.contains(&c.name) {
                c.nullable = false;
            }
        }
        t.primary_key = Cow::Owned(columns);
        Some(format!(
            "primary key of {}.{} to ({})",
            t.schema,
            t.name,
            t.primary_key.join(", ")
        ))
    }

    fn change_unique(&mut self, b: &mut [TableDef]) -> Option<String> {
        let i = self.pick_table(b);
        let bound = targeted_keys(b, &b[i].schema, &b[i].name);
        let t = &mut b[i];
        if t.uniques.is_empty() || self.rng.percent(50) {
            return self
                .add_unique(t)
                .then(|| format!("add a unique constraint to {}.{}", t.schema, t.name));
        }
        let k = self.rng.below(t.uniques.len());
        if bound.iter().any(|key| **key == *t.uniques[k].columns) {
            return None;
        }
        let u = t.uniques.to_mut().remove(k);
        Some(format!(
            "drop unique ({}) of {}.{}",
            u.columns.join(", "),
            t.schema,
            t.name
        ))
    }

    fn add_foreign_key(&mut self, b: &mut [TableDef]) -> Option<String> {
        let i = self.pick_table(b);
        let j = self.pick_table(b);
        let target = b[j].clone();
        let t = &mut b[i];
        self.add_fk(t, &target).then(|| {
            format!(
                "add a foreign key from {}.{} to {}.{}",
                t.schema, t.name, target.schema, target.name
            )
        })
    }

    fn drop_foreign_key(&mut self, b: &mut [TableDef]) -> Option<String> {
        let i = self.pick_table_with(b, |t| !t.foreign_keys.is_empty())?;
        let t = &mut b[i];
        if t.foreign_keys.is_empty() {
            return None;
        }
        let k = self.rng.below(t.foreign_keys.len());
        let f = t.foreign_keys.to_mut().remove(k);
        Some(format!(
            "drop the foreign key ({}) of {}.{}",
            f.columns.join(", "),
            t.schema,
            t.name
        ))
    }

    fn change_fk_action(&mut self, b: &mut [TableDef]) -> Option<String> {
        let i = self.pick_table_with(b, |t| !t.foreign_keys.is_empty())?;
        let t = &mut b[i];
        if t.foreign_keys.is_empty() {
            return None;
        }
        let k = self.rng.below(t.foreign_keys.len());
        let (on_delete, on_update) = (self.fk_action(20), self.fk_action(60));
        let f = &mut t.foreign_keys.to_mut()[k];
        if (f.on_delete, f.on_update) == (on_delete, on_update) {
            return None;
        }
        f.on_delete = on_delete;
        f.on_update = on_update;
        Some(format!(
            "foreign key ({}) of {}.{}: on delete {on_delete:?}, on update {on_update:?}",
            f.columns.join(", "),
            t.schema,
            t.name
        ))
    }

    fn change_check(&mut self, b: &mut [TableDef]) -> Option<String> {
        let i = self.pick_table(b);
        let t = &mut b[i];
        if t.checks.is_empty() || self.rng.percent(50) {
            return self
                .add_check(t)
                .then(|| format!("add a check to {}.{}", t.schema, t.name));
        }
        let k = self.rng.below(t.checks.len());
        t.checks.to_mut().remove(k);
        Some(format!("drop check #{} of {}.{}", k + 1, t.schema, t.name))
    }

    fn change_index(&mut self, b: &mut [TableDef]) -> Option<String> {
        let i = self.pick_table(b);
        let bound = targeted_keys(b, &b[i].schema, &b[i].name);
        let t = &mut b[i];
        if t.indexes.is_empty() || self.rng.percent(50) {
            return self
                .add_index(t)
                .then(|| format!("add an index to {}.{}", t.schema, t.name));
        }
        let k = self.rng.below(t.indexes.len());
        if t.indexes[k].unique && bound.iter().any(|key| **key == *t.indexes[k].columns) {
            return None;
        }
        let x = t.indexes.to_mut().remove(k);
        Some(format!(
            "drop index ({}) of {}.{}",
            x.columns.join(", "),
            t.schema,
            t.name
        ))
    }

    /// A value added (in the middle or at the end), removed, or the values reordered, in
    /// every column of the type.
    fn change_enum(&mut self, b: &mut [TableDef]) -> Option<String> {
        let used: Vec<EnumType> = rls_core::model::enums(&b.iter().collect::<Vec<_>>());
        if used.is_empty() {
            return None;
        }
        let e = self.rng.pick(&used).clone();
        let mut values = e.values.to_vec();
        let mut added = None;
        let what = match self.rng.below(10) {
            0..=5 => {
                let v = s(self.fresh("v"));
                let at = self.rng.below(values.len() + 1);
                values.insert(at, v.clone());
                added = Some(v.clone());
                format!("add value {v} at {at}")
            }
            6..=8 => {
                if values.len() < 2 {
                    return None;
                }
                let v = self.rng.pick(&values).clone();
                // Not if a default or an expression names it: of a table using the type, or
                // (a sub-select's filter, a lookup's) any table. Values are unique to a pair.
                for t in b.iter() {
                    let in_default = t.columns.iter().any(|c| {
                        matches!(&c.default, Some(DefaultExpr::Literal(Literal::String(d))) if *d == v)
                    });
                    let in_expr = t
                        .policies
                        .iter()
                        .flat_map(|p| p.using.iter().chain(p.with_check.iter()))
                        .chain(t.checks.iter().map(|k| &k.expr))
                        .chain(t.lookups.iter().map(|l| &l.filter))
                        .any(|x| expr_mentions_string(x, &v));
                    if in_default || in_expr {
                        return None;
                    }
                }
                values.retain(|x| *x != v);
                format!("remove value {v}")
            }
            _ => {
                if values.len() < 2 {
                    return None;
                }
                values.reverse();
                "reverse the values".to_string()
            }
        };
        let new = EnumType {
            schema: e.schema.clone(),
            name: e.name.clone(),
            values: Cow::Owned(values),
        };
        for t in b.iter_mut() {
            if t.columns.iter().any(|c| enum_of(&c.ty) == Some(&e)) {
                for c in t.columns.to_mut().iter_mut() {
                    if enum_of(&c.ty) == Some(&e) {
                        c.ty.name = TypeName::Enum(new.clone());
                    }
                }
            }
        }
        for x in self.enums.iter_mut() {
            if x.schema == e.schema && x.name == e.name {
                *x = new.clone();
            }
        }
        // The new value used at once, as a column's default (one migration file would
        // fail: see `diff::Split`).
        let mut what = what;
        if let Some(v) = added
            && self.rng.percent(50)
        {
            let users: Vec<(usize, usize)> = b
                .iter()
                .enumerate()
                .flat_map(|(i, t)| {
                    t.columns
                        .iter()
                        .enumerate()
                        .filter(|(_, c)| !c.ty.array && enum_of(&c.ty) == Some(&new))
                        .map(move |(k, _)| (i, k))
                })
                .collect();
            if !users.is_empty() {
                let (i, k) = *self.rng.pick(&users);
                let c = &mut b[i].columns.to_mut()[k];
                c.default = Some(DefaultExpr::Literal(Literal::String(v.clone())));
                what.push_str(&format!(
                    ", default of {}.{}.{} = {v}",
                    b[i].schema, b[i].name, c.name
                ));
            }
        }
        Some(format!(
            "enum {}.{}: {what} -> ({})",
            e.schema,
            e.name,
            new.values.join(", ")
        ))
    }

    fn change_policy(&mut self, b: &mut [TableDef]) -> Option<String> {
        let i = self.pick_table(b);
        self.reads = Reads::of(b, i);
        let cols = b[i].columns.to_vec();
        let t = &mut b[i];
        if t.policies.is_empty() {
            return None;
        }
        let k = self.rng.below(t.policies.len());
        let before = rls_core::sql::names::policy(&t.policies[k]);
        let label = format!("policy \"{before}\" of {}.{}", t.schema, t.name);
        let policies = t.policies.to_mut();
        let what = match self.rng.below(9) {
            0 => {
                let p = &mut policies[k];
                if !p.command.allows_using() {
                    return None;
                }
                p.using = Some(self.expr(&cols));
                "new USING"
            }
            1 => {
                let p = &mut policies[k];
                if p.using.is_none() || p.with_check.is_none() {
                    return None;
                }
                p.using = None;
                "USING removed"
            }
            2 => {
                let p = &mut policies[k];
                if !p.command.allows_with_check() {
                    return None;
                }
                p.with_check = Some(self.expr(&cols));
                "new WITH CHECK"
            }
            3 => {
                let p = &mut policies[k];
                if p.using.is_none() || p.with_check.is_none() {
                    return None;
                }
                p.with_check = None;
                "WITH CHECK removed"
            }
            4 => {
                let p = &mut policies[k];
                p.command = self.random_command();
                self.sanitize(p, &cols);
                "command changed"
            }
            5 => {
                let p = &mut policies[k];
                p.kind = match p.kind {
                    PolicyKind::Permissive => PolicyKind::Restrictive,
                    PolicyKind::Restrictive => PolicyKind::Permissive,
                };
                "kind flipped"
            }
            6 | 7 => {
                let roles = self.random_roles();
                let p = &policies[k];
                if p.name == PolicyName::Crud {
                    // The whole crud_policy: every policy of the group gets the roles.
                    let group = p.roles.to_vec();
                    for q in policies.iter_mut() {
                        if q.name == PolicyName::Crud && *q.roles == *group {
                            q.roles = Cow::Owned(roles.clone());
                        }
                    }
                } else {
                    policies[k].roles = Cow::Owned(roles);
                }
                "roles changed"
            }
            _ => {
                let p = &mut policies[k];
                if p.name == PolicyName::Crud {
                    return None;
                }
                p.name = PolicyName::Named(s(self.fresh("p")));
                "renamed"
            }
        };
        Some(format!("{label}: {what}"))
    }

    fn add_or_drop_policy(&mut self, b: &mut [TableDef]) -> Option<String> {
        let i = self.pick_table(b);
        self.reads = Reads::of(b, i);
        let t = &mut b[i];
        if t.policies.is_empty() || self.rng.percent(50) {
            t.disable_rls = false;
            return self
                .add_policy(t)
                .then(|| format!("add policies to {}.{}", t.schema, t.name));
        }
        let k = self.rng.below(t.policies.len());
        let p = t.policies[k].clone();
        let name = rls_core::sql::names::policy(&p);
        if p.name == PolicyName::Crud && self.rng.percent(60) {
            t.policies
                .to_mut()
                .retain(|q| !(q.name == PolicyName::Crud && q.roles == p.roles));
            return Some(format!(
                "drop the crud policies of {} on {}.{}",
                p.roles
                    .iter()
                    .map(|r| &*r.name)
                    .collect::<Vec<_>>()
                    .join(", "),
                t.schema,
                t.name
            ));
        }
        t.policies.to_mut().remove(k);
        Some(format!("drop policy \"{name}\" of {}.{}", t.schema, t.name))
    }

    fn change_grants(&mut self, b: &mut [TableDef]) -> Option<String> {
        let i = self.pick_table(b);
        let t = &mut b[i];
        match self.rng.below(3) {
            0 => self
                .add_grant(t)
                .then(|| format!("add a grant on {}.{}", t.schema, t.name)),
            1 if !t.grants.is_empty() => {
                let k = self.rng.below(t.grants.len());
                let g = t.grants.to_mut().remove(k);
                Some(format!(
                    "drop the grant to {} on {}.{}",
                    g.role.name, t.schema, t.name
                ))
            }
            2 if !t.grants.is_empty() => {
                let k = self.rng.below(t.grants.len());
                let privileges = self.random_privileges();
                let g = &mut t.grants.to_mut()[k];
                g.privileges = Cow::Owned(privileges);
                Some(format!(
                    "grant to {} on {}.{}: {:?}",
                    g.role.name, t.schema, t.name, g.privileges
                ))
            }
            _ => None,
        }
    }

    fn change_rls(&mut self, b: &mut [TableDef]) -> Option<String> {
        let i = self.pick_table(b);
        let t = &mut b[i];
        let what = match self.rng.below(3) {
            0 => {
                t.enable_rls = !t.enable_rls;
                t.disable_rls &= !t.enable_rls;
                format!("enable_rls = {}", t.enable_rls)
            }
            1 => {
                t.force_rls = !t.force_rls;
                t.disable_rls &= !t.force_rls;
                format!("force_rls = {}", t.force_rls)
            }
            _ => {
                if t.policies.is_empty() {
                    return None;
                }
                t.policies = Cow::Owned(Vec::new());
                "every policy removed".to_string()
            }
        };
        Some(format!("{}.{}: {what}", t.schema, t.name))
    }

    fn toggle_disable_rls(&mut self, b: &mut [TableDef]) -> Option<String> {
        let i = self.pick_table(b);
        let t = &mut b[i];
        if !t.disable_rls && !t.policies.is_empty() {
            if self.rng.percent(50) {
                return None;
            }
            t.policies = Cow::Owned(Vec::new());
        }
        t.disable_rls = !t.disable_rls;
        if t.disable_rls {
            t.enable_rls = false;
            t.force_rls = false;
        }
        Some(format!(
            "{}.{}: disable_rls = {} (no policies)",
            t.schema, t.name, t.disable_rls
        ))
    }

    fn toggle_policy_index(&mut self, b: &mut [TableDef]) -> Option<String> {
        let i = self.pick_table(b);
        let t = &mut b[i];
        if self.rng.percent(50) {
            t.policy_indexes = !t.policy_indexes;
            return Some(format!(
                "{}.{}: policy_indexes = {}",
                t.schema, t.name, t.policy_indexes
            ));
        }
        let j = self.rng.below(t.columns.len());
        let c = &mut t.columns.to_mut()[j];
        c.policy_index = !c.policy_index;
        Some(format!(
            "{}.{}.{}: policy_index = {}",
            t.schema, t.name, c.name, c.policy_index
        ))
    }
}

// ---------------------------------------------------------------------------------------
// The generator's own invariants
// ---------------------------------------------------------------------------------------

/// What PostgreSQL needs of a schema beyond `pgrls::check`: every name a constraint, index or
/// expression uses exists, keys match the types they reference, identity columns are
/// integers without a default and NOT NULL, key columns are NOT NULL, policy clauses fit
/// their command. A violation is a bug of the generator.
pub fn validate(tables: &[TableDef]) -> Result<(), String> {
    for t in tables {
        let err = |m: String| Err(format!("{}.{}: {m}", t.schema, t.name));
        let has = |c: &str| t.column(c).is_some();
        if t.disable_rls && (!t.policies.is_empty() || t.enable_rls || t.force_rls) {
            return err("disable_rls with policies, enable_rls or force_rls".into());
        }
        for (i, c) in t.columns.iter().enumerate() {
            if t.columns[..i].iter().any(|o| o.name == c.name) {
                return err(format!("column {} twice", c.name));
            }
            if c.identity.is_some()
                && (!matches!(kind(&c.ty), Kind::Int(_)) || c.nullable || c.default.is_some())
            {
                return err(format!(
                    "identity column {} is not a NOT NULL integer without default",
                    c.name
                ));
            }
        }
        for c in t.primary_key.iter() {
            match t.column(c) {
                Some(col) if !col.nullable => {}
                _ => return err(format!("primary key column {c} missing or nullable")),
            }
        }
        let lists = t
            .uniques
            .iter()
            .map(|u| &u.columns)
            .chain(t.indexes.iter().map(|x| &x.columns))
            .chain(t.foreign_keys.iter().map(|f| &f.columns));
        for list in lists {
            if list.is_empty() || list.iter().any(|c| !has(c)) {
                return err(format!(
                    "key or index over unknown columns ({})",
                    list.join(", ")
                ));
            }
        }
        for f in t.foreign_keys.iter() {
            let Some(target) = tables
                .iter()
                .find(|o| o.schema == f.target_schema && o.name == f.target_table)
            else {
                return err(format!("foreign key to missing {}", f.target_table));
            };
            if f.columns.len() != f.target_columns.len() {
                return err("foreign key arity".into());
            }
            for (c, tc) in f.columns.iter().zip(f.target_columns.iter()) {
                match (t.column(c), target.column(tc)) {
                    (Some(a), Some(b)) if a.ty == b.ty => {}
                    _ => {
                        return err(format!(
                            "foreign key column {c} does not match {}.{tc}",
                            target.name
                        ));
                    }
                }
            }
        }
        let exprs = t.checks.iter().map(|k| &k.expr).chain(
            t.policies
                .iter()
                .flat_map(|p| p.using.iter().chain(p.with_check.iter())),
        );
        for e in exprs {
            if rls_core::sql::expr::tree(e).is_err() {
                return err("malformed expression".into());
            }
            if let Some(c) = expr_columns(e).into_iter().find(|c| !has(c)) {
                return err(format!("expression over unknown column {c}"));
            }
        }
        for p in t.policies.iter() {
            if (p.using.is_some() && !p.command.allows_using())
                || (p.with_check.is_some() && !p.command.allows_with_check())
                || (p.using.is_none() && p.with_check.is_none())
            {
                return err(format!(
                    "policy {} has clauses its command refuses, or none",
                    rls_core::sql::names::policy(p)
                ));
            }
        }
    }
    cross::validate_reads(tables)
}

/// `renamed_from` of tables and columns, which the JSON form leaves out.
pub fn renames(tables: &[TableDef]) -> Vec<String> {
    let mut out = Vec::new();
    for t in tables {
        if let Some(from) = &t.renamed_from {
            out.push(format!("table {}.{} renamed_from {from}", t.schema, t.name));
        }
        for c in t.columns.iter() {
            if let Some(from) = &c.renamed_from {
                out.push(format!(
                    "column {}.{}.{} renamed_from {from}",
                    t.schema, t.name, c.name
                ));
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// Known bugs, recognised in a pair
// ---------------------------------------------------------------------------------------

/// The known bug (its flag's name) that migrating `a` to `b` would run into, among those
/// whose flag is on; `a` alone (as A) when `b` is `None`.
pub fn known_bug(a: &[TableDef], b: Option<&[TableDef]>) -> Option<&'static str> {
    let sides: Vec<&[TableDef]> = match b {
        Some(b) => vec![a, b],
        None => vec![a],
    };
    for side in &sides {
        if AVOID_ENUM_SCHEMA_WITHOUT_TABLE {
            let enums = rls_core::model::enums(&side.iter().collect::<Vec<_>>());
            if enums
                .iter()
                .any(|e| e.schema != "public" && !side.iter().any(|t| t.schema == e.schema))
            {
                return Some("AVOID_ENUM_SCHEMA_WITHOUT_TABLE");
            }
        }
        if AVOID_SELF_FK_TO_UNIQUE_INDEX
            && side.iter().any(|t| {
                t.foreign_keys.iter().any(|f| {
                    f.target_schema == t.schema
                        && f.target_table == t.name
                        && *f.target_columns != *t.primary_key
                        && !t.uniques.iter().any(|u| *u.columns == *f.target_columns)
                })
            })
        {
            return Some("AVOID_SELF_FK_TO_UNIQUE_INDEX");
        }
    }
    let b = b?;
    if let Some(flag) = identity_change(a, b) {
        return Some(flag);
    }
    if AVOID_DROP_REFERENCED_TABLE_FIRST && drop_referenced_table_first(a, b) {
        return Some("AVOID_DROP_REFERENCED_TABLE_FIRST");
    }
    if AVOID_ALTERED_POLICY_OVER_DROPPED_COLUMN && altered_policy_over_dropped_column(a, b) {
        return Some("AVOID_ALTERED_POLICY_OVER_DROPPED_COLUMN");
    }
    if let Some(flag) = dropped_table_fk_to_changed_key(a, b) {
        return Some(flag);
    }
    if let Some(flag) = fk_to_new_key(a, b) {
        return Some(flag);
    }
    if AVOID_CRUD_RENAME_WITH_RECREATE && crud_rename_with_recreate(a, b) {
        return Some("AVOID_CRUD_RENAME_WITH_RECREATE");
    }
    if AVOID_CHECK_OVER_FLOAT_RETYPED_COLUMN && check_over_float_retyped_column(a, b) {
        return Some("AVOID_CHECK_OVER_FLOAT_RETYPED_COLUMN");
    }
    None
}

/// The name in `a` of column `c` of `t` (a table of B).
fn a_column_name(t: &TableDef, c: &str) -> String {
    t.column(c)
        .and_then(|col| col.renamed_from.as_deref())
        .unwrap_or(c)
        .to_string()
}

/// Kept columns that lose their identity in a way the diff orders wrongly (BUG 6, BUG 12).
fn identity_change(a: &[TableDef], b: &[TableDef]) -> Option<&'static str> {
    for t in b {
        let Some(old) = a_table_of(a, t) else {
            continue;
        };
        for c in t.columns.iter() {
            let Some(was) = old.column(&a_column_name(t, &c.name)) else {
                continue;
            };
            if was.identity.is_none() || c.identity.is_some() {
                continue;
            }
            if AVOID_IDENTITY_RETYPED_TO_NON_INTEGER && !matches!(kind(&c.ty), Kind::Int(_)) {
                return Some("AVOID_IDENTITY_RETYPED_TO_NON_INTEGER");
            }
            if AVOID_DROP_IDENTITY_WITH_DEFAULT_OR_NULLABLE && (c.default.is_some() || c.nullable) {
                return Some("AVOID_DROP_IDENTITY_WITH_DEFAULT_OR_NULLABLE");
            }
        }
    }
    None
}

/// Whether `b` keeps table `o` of `a` (under its name or a new one).
fn keeps(a: &[TableDef], b: &[TableDef], o: &TableDef) -> bool {
    b.iter()
        .any(|t| a_table_of(a, t).is_some_and(|x| x.schema == o.schema && x.name == o.name))
}

fn drop_referenced_table_first(a: &[TableDef], b: &[TableDef]) -> bool {
    let dropped: Vec<usize> = (0..a.len()).filter(|&i| !keeps(a, b, &a[i])).collect();
    dropped.iter().any(|&i| {
        dropped.iter().any(|&j| {
            j > i
                && a[j]
                    .foreign_keys
                    .iter()
                    .any(|f| f.target_schema == a[i].schema && f.target_table == a[i].name)
        })
    })
}

fn altered_policy_over_dropped_column(a: &[TableDef], b: &[TableDef]) -> bool {
    use rls_core::sql::names::policy as name;
    for t in b {
        let Some(old) = a_table_of(a, t) else {
            continue;
        };
        let dropped: Vec<&str> = old
            .columns
            .iter()
            .map(|c| &*c.name)
            .filter(|c| !t.columns.iter().any(|n| a_column_name(t, &n.name) == *c))
            .collect();
        for o in old.policies.iter() {
            // Kept under its name, or paired with a renamed crud policy (ALTER ... RENAME).
            let altered = t.policies.iter().any(|n| name(n) == name(o))
                || o.name == PolicyName::Crud
                    && t.policies.iter().any(|n| {
                        n.name == PolicyName::Crud
                            && n.command == o.command
                            && !old.policies.iter().any(|x| name(x) == name(n))
                    });
            if policy_columns(o).iter().any(|c| dropped.contains(c)) && altered {
                return true;
            }
        }
    }
    false
}

/// A table of `a` that `b` drops, with a foreign key to a key of a kept table that `b`
/// no longer has as it was (BUG 11).
fn dropped_table_fk_to_changed_key(a: &[TableDef], b: &[TableDef]) -> Option<&'static str> {
    let kept = |o: &TableDef| {
        b.iter()
            .find(|t| a_table_of(a, t).is_some_and(|x| x.name == o.name && x.schema == o.schema))
    };
    for d in a.iter().filter(|o| kept(o).is_none()) {
        for f in d.foreign_keys.iter() {
            let Some(old) = a
                .iter()
                .find(|o| o.schema == f.target_schema && o.name == f.target_table)
            else {
                continue;
            };
            let Some(new) = kept(old) else {
                continue;
            };
            // Under B's names.
            let map = |cols: &[Str]| -> Vec<Str> {
                cols.iter()
                    .map(|c| {
                        new.columns
                            .iter()
                            .find(|n| n.renamed_from.as_deref() == Some(&**c))
                            .map_or_else(|| c.clone(), |n| n.name.clone())
                    })
                    .collect()
            };
            // Every key of the target over the same columns, in any order: PostgreSQL may
            // have tied the foreign key to any of them (BUG 17).
            let mut keys: Vec<(KeyKind, Vec<Str>)> =
                vec![(KeyKind::Primary, old.primary_key.to_vec())];
            keys.extend(
                old.uniques
                    .iter()
                    .map(|u| (KeyKind::Unique, u.columns.to_vec())),
            );
            keys.extend(
                old.indexes
                    .iter()
                    .filter(|x| x.unique)
                    .map(|x| (KeyKind::Index, x.columns.to_vec())),
            );
            let same_set = |cols: &[Str]| {
                cols.len() == f.target_columns.len()
                    && cols.iter().all(|c| f.target_columns.contains(c))
            };
            for (k, cols) in keys.iter().filter(|(_, cols)| same_set(cols)) {
                let is = |x: &[Str]| *x == *map(cols);
                let still = match k {
                    KeyKind::Primary => is(&new.primary_key),
                    KeyKind::Unique => new.uniques.iter().any(|u| is(&u.columns)),
                    KeyKind::Index => new.indexes.iter().any(|x| x.unique && is(&x.columns)),
                };
                if still {
                    continue;
                }
                if AVOID_DROPPED_TABLE_FK_TO_CHANGED_KEY {
                    return Some("AVOID_DROPPED_TABLE_FK_TO_CHANGED_KEY");
                }
            }
        }
    }
    None
}

#[derive(Clone, Copy)]
enum KeyKind {
    Primary,
    Unique,
    Index,
}

/// A foreign key of `b` to a key of a kept table that `a` does not have: from a new table
/// (BUG 5), or to a new unique index (BUG 5b); or from a new table to a retyped column
/// (BUG 5).
fn fk_to_new_key(a: &[TableDef], b: &[TableDef]) -> Option<&'static str> {
    for t in b {
        let new_table = a_table_of(a, t).is_none();
        for f in t.foreign_keys.iter() {
            let Some(target) = b
                .iter()
                .find(|o| o.schema == f.target_schema && o.name == f.target_table)
            else {
                continue;
            };
            let Some(old) = a_table_of(a, target) else {
                continue;
            };
            let key: Vec<String> = f
                .target_columns
                .iter()
                .map(|c| a_column_name(target, c))
                .collect();
            let is = |cols: &[Str]| cols.iter().map(|c| c.to_string()).collect::<Vec<_>>() == key;
            let constraint = is(&old.primary_key) || old.uniques.iter().any(|u| is(&u.columns));
            let index = old.indexes.iter().any(|x| x.unique && is(&x.columns));
            let retyped = new_table
                && f.target_columns.iter().any(|c| {
                    let was = old.column(&a_column_name(target, c)).map(|x| &x.ty);
                    was.is_some() && was != target.column(c).map(|x| &x.ty)
                });
            if AVOID_NEW_TABLE_FK_TO_CHANGED_TABLE && retyped {
                return Some("AVOID_NEW_TABLE_FK_TO_CHANGED_TABLE");
            }
            if constraint || index {
                continue;
            }
            let new_is = |cols: &[Str]| *cols == *f.target_columns;
            let new_index = target
                .indexes
                .iter()
                .any(|x| x.unique && new_is(&x.columns))
                && !new_is(&target.primary_key)
                && !target.uniques.iter().any(|u| new_is(&u.columns));
            if AVOID_NEW_TABLE_FK_TO_CHANGED_TABLE && new_table {
                return Some("AVOID_NEW_TABLE_FK_TO_CHANGED_TABLE");
            }
            if AVOID_FK_TO_NEW_UNIQUE_INDEX && new_index {
                return Some("AVOID_FK_TO_NEW_UNIQUE_INDEX");
            }
        }
    }
    None
}

fn crud_rename_with_recreate(a: &[TableDef], b: &[TableDef]) -> bool {
    use rls_core::sql::names::policy as name;
    for t in b {
        let Some(old) = a_table_of(a, t) else {
            continue;
        };
        for n in t.policies.iter().filter(|p| p.name == PolicyName::Crud) {
            if old.policies.iter().any(|o| name(o) == name(n)) {
                continue;
            }
            let recreated = old.policies.iter().any(|o| {
                o.name == PolicyName::Crud
                    && o.command == n.command
                    && !t.policies.iter().any(|x| name(x) == name(o))
                    && (o.kind != n.kind
                        || (o.using.is_some() && n.using.is_none())
                        || (o.with_check.is_some() && n.with_check.is_none()))
            });
            if recreated {
                return true;
            }
        }
    }
    false
}

fn check_over_float_retyped_column(a: &[TableDef], b: &[TableDef]) -> bool {
    for t in b {
        let Some(old) = a_table_of(a, t) else {
            continue;
        };
        for k in t.checks.iter() {
            for c in expr_columns(&k.expr) {
                let (Some(new), Some(was)) = (t.column(c), old.column(&a_column_name(t, c))) else {
                    continue;
                };
                if new.ty != was.ty
                    && (kind(&new.ty) == Kind::Float || kind(&was.ty) == Kind::Float)
                {
                    return true;
                }
            }
        }
    }
    false
}

// ---------------------------------------------------------------------------------------
// Shapes that once were bugs, recognised in a pair (for RLS_ROUNDTRIP_STATS: how often the
// generator draws them)
// ---------------------------------------------------------------------------------------

/// The shapes the generator once avoided that the pair `a` -> `b` has.
pub fn shapes(a: &[TableDef], b: &[TableDef]) -> Vec<&'static str> {
    let mut out = Vec::new();
    if new_enum_value_used(a, b) {
        out.push("new enum value used (split in two files)");
    }
    if enum_rebuilt_under_fk(a, b) {
        out.push("enum rebuilt under a foreign key");
    }
    if unique_becoming_primary_key_under_fk(a, b) {
        out.push("unique becoming the primary key under a foreign key");
    }
    if key_dropped_under_fk_same_column_set(a, b) {
        out.push("key dropped under a foreign key on the same columns in another order");
    }
    out
}

/// A kept foreign key of `b` whose target loses a key (primary, unique, unique index)
/// over the same columns in another order.
fn key_dropped_under_fk_same_column_set(a: &[TableDef], b: &[TableDef]) -> bool {
    let keys = |t: &TableDef| -> Vec<Vec<String>> {
        let mut out = vec![t.primary_key.iter().map(|c| c.to_string()).collect()];
        out.extend(
            t.uniques
                .iter()
                .map(|u| u.columns.iter().map(|c| c.to_string()).collect()),
        );
        out.extend(
            t.indexes
                .iter()
                .filter(|x| x.unique)
                .map(|x| x.columns.iter().map(|c| c.to_string()).collect()),
        );
        out
    };
    for t in b {
        let Some(old_t) = a_table_of(a, t) else {
            continue;
        };
        for f in t.foreign_keys.iter() {
            if !old_t
                .foreign_keys
                .iter()
                .any(|o| o.target_table == f.target_table)
            {
                continue;
            }
            let Some(target) = b
                .iter()
                .find(|o| o.schema == f.target_schema && o.name == f.target_table)
            else {
                continue;
            };
            let Some(old_target) = a_table_of(a, target) else {
                continue;
            };
            let wanted: Vec<String> = f
                .target_columns
                .iter()
                .map(|c| a_column_name(target, c))
                .collect();
            let now: Vec<Vec<String>> = keys(target)
                .into_iter()
                .map(|k| k.iter().map(|c| a_column_name(target, c)).collect())
                .collect();
            let dropped = keys(old_target).into_iter().filter(|k| !now.contains(k));
            if dropped.into_iter().any(|k| {
                k != wanted && k.len() == wanted.len() && k.iter().all(|c| wanted.contains(c))
            }) {
                return true;
            }
        }
    }
    false
}

/// A label that `b` adds to an enum of `a` by ADD VALUE (the old labels kept in order) and
/// that a default or an expression of `b` names.
fn new_enum_value_used(a: &[TableDef], b: &[TableDef]) -> bool {
    let old = rls_core::model::enums(&a.iter().collect::<Vec<_>>());
    let new = rls_core::model::enums(&b.iter().collect::<Vec<_>>());
    let mut added: Vec<Str> = Vec::new();
    for n in &new {
        let Some(o) = old
            .iter()
            .find(|o| o.schema == n.schema && o.name == n.name)
        else {
            continue;
        };
        let kept: Vec<&Str> = n.values.iter().filter(|v| o.values.contains(v)).collect();
        if kept.len() == o.values.len() && kept.iter().zip(o.values.iter()).all(|(x, y)| *x == y) {
            added.extend(n.values.iter().filter(|v| !o.values.contains(v)).cloned());
        }
    }
    b.iter().any(|t| {
        added.iter().any(|v| {
            t.columns.iter().any(
                |c| matches!(&c.default, Some(DefaultExpr::Literal(Literal::String(d))) if d == v),
            ) || t
                .policies
                .iter()
                .flat_map(|p| p.using.iter().chain(p.with_check.iter()))
                .chain(t.checks.iter().map(|k| &k.expr))
                .any(|e| expr_mentions_string(e, v))
        })
    })
}

fn unique_becoming_primary_key_under_fk(a: &[TableDef], b: &[TableDef]) -> bool {
    let set_eq = |x: &[Str], y: &[Str]| x.len() == y.len() && x.iter().all(|c| y.contains(c));
    for t in b {
        let Some(old) = a_table_of(a, t) else {
            continue;
        };
        let old_pk: Vec<String> = old.primary_key.iter().map(|c| c.to_string()).collect();
        let new_pk: Vec<String> = t.primary_key.iter().map(|c| a_column_name(t, c)).collect();
        if old_pk == new_pk {
            continue;
        }
        let unique_before = old
            .uniques
            .iter()
            .any(|u| u.columns.iter().map(|c| c.to_string()).collect::<Vec<_>>() == new_pk);
        let targeted = targeted_keys(b, &t.schema, &t.name)
            .iter()
            .any(|k| set_eq(k, &t.primary_key));
        if unique_before && targeted {
            return true;
        }
    }
    false
}

/// Enums of both `a` and `b` whose values are not kept in order (the diff rebuilds them).
fn rebuilt_enums(a: &[TableDef], b: &[TableDef]) -> Vec<EnumType> {
    let old = rls_core::model::enums(&a.iter().collect::<Vec<_>>());
    let new = rls_core::model::enums(&b.iter().collect::<Vec<_>>());
    new.into_iter()
        .filter(|n| {
            old.iter()
                .find(|o| o.schema == n.schema && o.name == n.name)
                .is_some_and(|o| {
                    let kept: Vec<&Str> =
                        n.values.iter().filter(|v| o.values.contains(v)).collect();
                    kept.len() != o.values.len()
                        || kept.iter().zip(o.values.iter()).any(|(x, y)| *x != y)
                })
        })
        .collect()
}

fn enum_rebuilt_under_fk(a: &[TableDef], b: &[TableDef]) -> bool {
    let rebuilt = rebuilt_enums(a, b);
    b.iter().any(|t| {
        t.foreign_keys.iter().any(|f| {
            f.columns.iter().any(|c| {
                t.column(c)
                    .and_then(|col| enum_of(&col.ty))
                    .is_some_and(|e| {
                        rebuilt
                            .iter()
                            .any(|r| r.schema == e.schema && r.name == e.name)
                    })
            })
        })
    })
}
