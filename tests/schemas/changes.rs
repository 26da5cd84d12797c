//! One schema change of each kind, as (name, before, after): snapshot-tested in
//! `migration_diff.rs` and applied to PostgreSQL in `migration_roundtrip.rs`.

use pgrls::{PgEnum, Role, Table, TableDef};

pub struct Case {
    pub name: &'static str,
    pub before: &'static [&'static TableDef],
    pub after: &'static [&'static TableDef],
    /// Drops something: generated only with `--allow-destructive`.
    pub destructive: bool,
}

pub const EDITOR: Role = Role::create("editor");

mod base {
    use super::*;

    #[derive(PgEnum)]
    #[pg_enum(name = "status")]
    pub enum Status {
        Open,
        Done,
    }

    #[derive(Table)]
    #[table(name = "projects")]
    #[crud_policy(role = authenticated, read = auth_uid(owner), modify = auth_uid(owner))]
    pub struct Project {
        #[column(primary_key, identity)]
        pub id: i64,
        #[column(default = auth_user_id())]
        pub owner: String,
        pub title: String,
        pub budget: i32,
        pub notes: Option<String>,
        #[column(default = "open")]
        pub status: Status,
    }

    #[derive(Table)]
    #[table(name = "tasks")]
    #[crud_policy(role = authenticated, read = auth_uid(owner), modify = auth_uid(owner))]
    pub struct Task {
        #[column(primary_key, identity)]
        pub id: i64,
        #[column(references = Project::id, on_delete = cascade)]
        pub project_id: i64,
        #[column(default = auth_user_id())]
        pub owner: String,
        pub body: String,
    }
}

macro_rules! variant {
    ($module:ident { $($body:tt)* }) => {
        mod $module {
            #[allow(unused_imports)]
            use super::*;
            $($body)*
        }
    };
}

// The same tables with one change each. Projects unless said otherwise.
variant!(added_table {
    pub use super::base::{Project, Task};
    #[derive(Table)]
    #[table(name = "labels")]
    #[crud_policy(role = authenticated, read = true)]
    pub struct Label {
        #[column(primary_key)]
        pub name: String,
        #[column(references = Project::id)]
        pub project_id: Option<i64>,
    }
});

variant!(renamed_table {
    use super::base::Status;
    #[derive(Table)]
    #[table(name = "tasks")]
    #[crud_policy(role = authenticated, read = auth_uid(owner), modify = auth_uid(owner))]
    pub struct Task {
        #[column(primary_key, identity)]
        pub id: i64,
        #[column(references = Project::id, on_delete = cascade)]
        pub project_id: i64,
        #[column(default = auth_user_id())]
        pub owner: String,
        pub body: String,
    }
    #[derive(Table)]
    #[table(name = "boards", renamed_from = "projects")]
    #[crud_policy(role = authenticated, read = auth_uid(owner), modify = auth_uid(owner))]
    pub struct Project {
        #[column(primary_key, identity)]
        pub id: i64,
        #[column(default = auth_user_id())]
        pub owner: String,
        pub title: String,
        pub budget: i32,
        pub notes: Option<String>,
        #[column(default = "open")]
        pub status: Status,
    }
});

variant!(columns {
    pub use super::base::Task;
    use super::base::Status;
    /// title renamed to name, budget widened to bigint, notes dropped, archived added,
    /// status default changed.
    #[derive(Table)]
    #[table(name = "projects")]
    #[crud_policy(role = authenticated, read = auth_uid(owner), modify = auth_uid(owner))]
    pub struct Project {
        #[column(primary_key, identity)]
        pub id: i64,
        #[column(default = auth_user_id())]
        pub owner: String,
        #[column(renamed_from = "title", unique)]
        pub name: String,
        pub budget: i64,
        #[column(default = false)]
        pub archived: bool,
        #[column(default = "done")]
        pub status: Status,
    }
});

variant!(narrowed_column {
    pub use super::base::Task;
    use super::base::Status;
    #[derive(Table)]
    #[table(name = "projects")]
    #[crud_policy(role = authenticated, read = auth_uid(owner), modify = auth_uid(owner))]
    pub struct Project {
        #[column(primary_key, identity)]
        pub id: i64,
        #[column(default = auth_user_id())]
        pub owner: String,
        #[column(sql_type = "varchar(40)")]
        pub title: String,
        pub budget: i16,
        pub notes: String,
        #[column(default = "open")]
        pub status: Status,
    }
});

variant!(keys_and_indexes {
    use super::base::Status;
    /// A check, an index and identity ALWAYS on projects; tasks' foreign key now SET NULL.
    #[derive(Table)]
    #[table(name = "projects")]
    #[crud_policy(role = authenticated, read = auth_uid(owner), modify = auth_uid(owner))]
    #[check(budget >= 0)]
    #[index(columns = [status, budget])]
    pub struct Project {
        #[column(primary_key, identity = always)]
        pub id: i64,
        #[column(default = auth_user_id())]
        pub owner: String,
        pub title: String,
        pub budget: i32,
        pub notes: Option<String>,
        #[column(default = "open")]
        pub status: Status,
    }
    #[derive(Table)]
    #[table(name = "tasks")]
    #[crud_policy(role = authenticated, read = auth_uid(owner), modify = auth_uid(owner))]
    pub struct Task {
        #[column(primary_key, identity)]
        pub id: i64,
        #[column(references = Project::id, on_delete = set_null)]
        pub project_id: Option<i64>,
        #[column(default = auth_user_id())]
        pub owner: String,
        pub body: String,
    }
});

variant!(enum_value_added {
    pub use super::base::Task;
    #[derive(PgEnum)]
    #[pg_enum(name = "status")]
    pub enum Status {
        Open,
        Blocked,
        Done,
        Archived,
    }
    #[derive(Table)]
    #[table(name = "projects")]
    #[crud_policy(role = authenticated, read = auth_uid(owner), modify = auth_uid(owner))]
    pub struct Project {
        #[column(primary_key, identity)]
        pub id: i64,
        #[column(default = auth_user_id())]
        pub owner: String,
        pub title: String,
        pub budget: i32,
        pub notes: Option<String>,
        #[column(default = "open")]
        pub status: Status,
    }
});

variant!(enum_value_added_and_used {
    pub use super::base::Task;
    #[derive(PgEnum)]
    #[pg_enum(name = "status")]
    pub enum Status {
        Open,
        Blocked,
        Done,
    }
    /// The new value is the default at once: two migration files, the value first.
    #[derive(Table)]
    #[table(name = "projects")]
    #[crud_policy(role = authenticated, read = auth_uid(owner), modify = auth_uid(owner))]
    pub struct Project {
        #[column(primary_key, identity)]
        pub id: i64,
        #[column(default = auth_user_id())]
        pub owner: String,
        pub title: String,
        pub budget: i32,
        pub notes: Option<String>,
        #[column(default = "blocked")]
        pub status: Status,
    }
});

variant!(enum_value_dropped {
    pub use super::base::Task;
    #[derive(PgEnum)]
    #[pg_enum(name = "status")]
    pub enum Status {
        Open,
    }
    #[derive(Table)]
    #[table(name = "projects")]
    #[crud_policy(role = authenticated, read = auth_uid(owner), modify = auth_uid(owner))]
    pub struct Project {
        #[column(primary_key, identity)]
        pub id: i64,
        #[column(default = auth_user_id())]
        pub owner: String,
        pub title: String,
        pub budget: i32,
        pub notes: Option<String>,
        #[column(default = "open")]
        pub status: Status,
    }
});

variant!(policies {
    pub use super::base::Task;
    use super::base::Status;
    /// Roles of the crud_policy changed (renamed + altered), read widened (ALTER USING),
    /// a restrictive policy added, and a policy whose WITH CHECK goes away (DROP + CREATE).
    #[derive(Table)]
    #[table(name = "projects", force_rls)]
    #[crud_policy(role = [authenticated, EDITOR], read = auth_uid(owner) || budget > 100, modify = auth_uid(owner))]
    #[policy(name = "no archived updates", as = restrictive, for = update, to = authenticated, using = status != "done")]
    pub struct Project {
        #[column(primary_key, identity)]
        pub id: i64,
        #[column(default = auth_user_id())]
        pub owner: String,
        pub title: String,
        pub budget: i32,
        pub notes: Option<String>,
        #[column(default = "open")]
        pub status: Status,
    }
});

variant!(policy_clause_removed {
    pub use super::base::Task;
    use super::base::Status;
    /// update keeps USING but loses WITH CHECK: ALTER POLICY cannot remove it.
    #[derive(Table)]
    #[table(name = "projects")]
    #[crud_policy(role = authenticated, read = auth_uid(owner))]
    #[policy(name = "crud-authenticated-policy-update", for = update, to = authenticated, using = auth_uid(owner))]
    pub struct Project {
        #[column(primary_key, identity)]
        pub id: i64,
        #[column(default = auth_user_id())]
        pub owner: String,
        pub title: String,
        pub budget: i32,
        pub notes: Option<String>,
        #[column(default = "open")]
        pub status: Status,
    }
});

variant!(last_policy_removed {
    pub use super::base::Task;
    use super::base::Status;
    #[derive(Table)]
    #[table(name = "projects")]
    pub struct Project {
        #[column(primary_key, identity)]
        pub id: i64,
        #[column(default = auth_user_id())]
        pub owner: String,
        pub title: String,
        pub budget: i32,
        pub notes: Option<String>,
        #[column(default = "open")]
        pub status: Status,
    }
});

variant!(rls_disabled {
    pub use super::base::Task;
    use super::base::Status;
    #[derive(Table)]
    #[table(name = "projects", disable_rls)]
    pub struct Project {
        #[column(primary_key, identity)]
        pub id: i64,
        #[column(default = auth_user_id())]
        pub owner: String,
        pub title: String,
        pub budget: i32,
        pub notes: Option<String>,
        #[column(default = "open")]
        pub status: Status,
    }
});

variant!(grants {
    pub use super::base::Task;
    use super::base::Status;
    /// No DELETE for authenticated, whatever the policies say.
    #[derive(Table)]
    #[table(name = "projects")]
    #[crud_policy(role = authenticated, read = auth_uid(owner), modify = auth_uid(owner))]
    #[grant(to = authenticated, privileges = [select, insert, update])]
    pub struct Project {
        #[column(primary_key, identity)]
        pub id: i64,
        #[column(default = auth_user_id())]
        pub owner: String,
        pub title: String,
        pub budget: i32,
        pub notes: Option<String>,
        #[column(default = "open")]
        pub status: Status,
    }
});

variant!(dropped_table {
    pub use super::base::Project;
});

pub const BASE: &[&TableDef] = &[base::Project::TABLE, base::Task::TABLE];

/// Issue 9: tables whose policies read another table (a sub-select) or call a lookup.
mod teams {
    use super::*;

    #[derive(Table)]
    #[table(name = "members")]
    #[primary_key(team_id, user_id)]
    #[lookup(name = "my_team_ids", select = team_id, filter = user_id == auth_user_id())]
    #[policy(name = "members see their teams", for = select, to = authenticated, using = team_id.is_in(Member::my_team_ids))]
    pub struct Member {
        pub team_id: i64,
        #[column(sql_type = "varchar(64)")]
        pub user_id: String,
    }

    #[derive(Table)]
    #[table(name = "boards")]
    #[policy(name = "members read boards", for = select, to = authenticated, using = team_id.is_in(Member::team_id.filter(Member::user_id == auth_user_id())))]
    pub struct Board {
        #[column(primary_key, identity)]
        pub id: i64,
        pub team_id: i64,
    }
}

variant!(read_column_renamed {
    #[derive(Table)]
    #[table(name = "members")]
    #[primary_key(team_id, uid)]
    #[lookup(name = "my_team_ids", select = team_id, filter = uid == auth_user_id())]
    #[policy(name = "members see their teams", for = select, to = authenticated, using = team_id.is_in(Member::my_team_ids))]
    pub struct Member {
        pub team_id: i64,
        #[column(renamed_from = "user_id", sql_type = "varchar(64)")]
        pub uid: String,
    }

    #[derive(Table)]
    #[table(name = "boards")]
    #[policy(name = "members read boards", for = select, to = authenticated, using = team_id.is_in(Member::team_id.filter(Member::uid == auth_user_id())))]
    pub struct Board {
        #[column(primary_key, identity)]
        pub id: i64,
        pub team_id: i64,
    }
});

// The column a sub-select selects renamed: PostgreSQL would keep the old name as the
// sub-select's output alias (`SELECT members.tid AS team_id`), so the policy is created again.
variant!(selected_column_renamed {
    #[derive(Table)]
    #[table(name = "members")]
    #[primary_key(tid, user_id)]
    #[lookup(name = "my_team_ids", select = tid, filter = user_id == auth_user_id())]
    #[policy(name = "members see their teams", for = select, to = authenticated, using = tid.is_in(Member::my_team_ids))]
    pub struct Member {
        #[column(renamed_from = "team_id")]
        pub tid: i64,
        #[column(sql_type = "varchar(64)")]
        pub user_id: String,
    }

    #[derive(Table)]
    #[table(name = "boards")]
    #[policy(name = "members read boards", for = select, to = authenticated, using = team_id.is_in(Member::tid.filter(Member::user_id == auth_user_id())))]
    pub struct Board {
        #[column(primary_key, identity)]
        pub id: i64,
        pub team_id: i64,
    }
});

variant!(read_column_retyped {
    #[derive(Table)]
    #[table(name = "members")]
    #[primary_key(team_id, user_id)]
    #[lookup(name = "my_team_ids", select = team_id, filter = user_id == auth_user_id())]
    #[policy(name = "members see their teams", for = select, to = authenticated, using = team_id.is_in(Member::my_team_ids))]
    pub struct Member {
        pub team_id: i64,
        pub user_id: String,
    }

    pub use super::teams::Board;
});

variant!(lookup_retyped {
    #[derive(Table)]
    #[table(name = "members")]
    #[primary_key(team_id, user_id)]
    #[lookup(name = "my_team_ids", select = team_id, filter = user_id == auth_user_id())]
    #[policy(name = "members see their teams", for = select, to = authenticated, using = team_id.is_in(Member::my_team_ids))]
    pub struct Member {
        #[column(sql_type = "numeric")]
        pub team_id: i64,
        #[column(sql_type = "varchar(64)")]
        pub user_id: String,
    }

    pub use super::teams::Board;
});

variant!(lookup_dropped {
    #[derive(Table)]
    #[table(name = "members")]
    #[primary_key(team_id, user_id)]
    #[crud_policy(role = authenticated, read = auth_uid(user_id))]
    pub struct Member {
        pub team_id: i64,
        #[column(sql_type = "varchar(64)")]
        pub user_id: String,
    }

    pub use super::teams::Board;
});

variant!(read_table_dropped {
    #[derive(Table)]
    #[table(name = "boards")]
    #[policy(name = "members read boards", for = select, to = authenticated, using = true)]
    pub struct Board {
        #[column(primary_key, identity)]
        pub id: i64,
        pub team_id: i64,
    }
});

pub const TEAMS: &[&TableDef] = &[teams::Member::TABLE, teams::Board::TABLE];

/// The cases of tables that read each other: also applied to PostgreSQL by
/// `migration_roundtrip.rs`.
pub const CROSS_TABLE_CASES: &[Case] = &[
    Case {
        name: "read_column_renamed",
        before: TEAMS,
        after: &[
            read_column_renamed::Member::TABLE,
            read_column_renamed::Board::TABLE,
        ],
        destructive: false,
    },
    Case {
        name: "selected_column_renamed",
        before: TEAMS,
        after: &[
            selected_column_renamed::Member::TABLE,
            selected_column_renamed::Board::TABLE,
        ],
        destructive: false,
    },
    Case {
        name: "read_column_retyped",
        before: TEAMS,
        after: &[
            read_column_retyped::Member::TABLE,
            read_column_retyped::Board::TABLE,
        ],
        destructive: false,
    },
    Case {
        name: "lookup_retyped",
        before: TEAMS,
        after: &[lookup_retyped::Member::TABLE, lookup_retyped::Board::TABLE],
        destructive: false,
    },
    Case {
        name: "lookup_dropped",
        before: TEAMS,
        after: &[lookup_dropped::Member::TABLE, lookup_dropped::Board::TABLE],
        destructive: false,
    },
    Case {
        name: "read_table_dropped",
        before: TEAMS,
        after: &[read_table_dropped::Board::TABLE],
        destructive: true,
    },
];

pub const CASES: &[Case] = &[
    Case {
        name: "added_table",
        before: BASE,
        after: &[
            added_table::Project::TABLE,
            added_table::Task::TABLE,
            added_table::Label::TABLE,
        ],
        destructive: false,
    },
    Case {
        name: "renamed_table",
        before: BASE,
        after: &[renamed_table::Project::TABLE, renamed_table::Task::TABLE],
        destructive: false,
    },
    Case {
        name: "columns",
        before: BASE,
        after: &[columns::Project::TABLE, columns::Task::TABLE],
        destructive: true,
    },
    Case {
        name: "narrowed_column",
        before: BASE,
        after: &[
            narrowed_column::Project::TABLE,
            narrowed_column::Task::TABLE,
        ],
        destructive: true,
    },
    Case {
        name: "keys_and_indexes",
        before: BASE,
        after: &[
            keys_and_indexes::Project::TABLE,
            keys_and_indexes::Task::TABLE,
        ],
        destructive: false,
    },
    Case {
        name: "enum_value_added",
        before: BASE,
        after: &[
            enum_value_added::Project::TABLE,
            enum_value_added::Task::TABLE,
        ],
        destructive: false,
    },
    Case {
        name: "enum_value_added_and_used",
        before: BASE,
        after: &[
            enum_value_added_and_used::Project::TABLE,
            enum_value_added_and_used::Task::TABLE,
        ],
        destructive: false,
    },
    Case {
        name: "enum_value_dropped",
        before: BASE,
        after: &[
            enum_value_dropped::Project::TABLE,
            enum_value_dropped::Task::TABLE,
        ],
        destructive: true,
    },
    Case {
        name: "policies",
        before: BASE,
        after: &[policies::Project::TABLE, policies::Task::TABLE],
        destructive: false,
    },
    Case {
        name: "policy_clause_removed",
        before: BASE,
        after: &[
            policy_clause_removed::Project::TABLE,
            policy_clause_removed::Task::TABLE,
        ],
        destructive: false,
    },
    Case {
        name: "last_policy_removed",
        before: BASE,
        after: &[
            last_policy_removed::Project::TABLE,
            last_policy_removed::Task::TABLE,
        ],
        destructive: false,
    },
    Case {
        name: "rls_disabled",
        before: BASE,
        after: &[rls_disabled::Project::TABLE, rls_disabled::Task::TABLE],
        destructive: false,
    },
    Case {
        name: "grants",
        before: BASE,
        after: &[grants::Project::TABLE, grants::Task::TABLE],
        destructive: false,
    },
    Case {
        name: "dropped_table",
        before: BASE,
        after: &[dropped_table::Project::TABLE],
        destructive: true,
    },
];
