//! Snapshots of what the derives expand to: a review of every change to generated code.

use quote::quote;

/// One item per line, so that snapshot diffs stay readable without a formatter.
fn pretty(tokens: proc_macro2::TokenStream) -> String {
    tokens
        .to_string()
        .replace("; ", ";\n")
        .replace("} ", "}\n")
        .replace(", ", ",\n")
}

#[test]
fn todos() {
    let input = quote! {
        #[table(name = "todos")]
        #[crud_policy(role = authenticated, read = auth_uid(user_id), modify = auth_uid(user_id))]
        pub struct Todo {
            #[column(primary_key, identity)]
            pub id: i64,
            #[column(default = auth_user_id())]
            pub user_id: String,
            pub task: String,
            #[column(default = false)]
            pub is_complete: bool,
            #[column(default = now())]
            pub inserted_at: time::OffsetDateTime,
        }
    };
    insta::assert_snapshot!(pretty(crate::table::derive(input)));
}

#[test]
fn errors_still_define_the_table() {
    let input = quote! {
        #[crud_policy(role = authenticatd, read = auth_uid(usr_id))]
        pub struct Todo {
            pub user_id: String,
        }
    };
    insta::assert_snapshot!(pretty(crate::table::derive(input)));
}

#[test]
fn pg_enum() {
    let input = quote! {
        #[pg_enum(name = "task_status")]
        pub enum TaskStatus { Todo, InProgress, #[pg_enum(rename = "done!")] Done }
    };
    insta::assert_snapshot!(pretty(crate::pg_enum::derive(input)));
}
