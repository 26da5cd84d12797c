//! Snapshots of what the derives expand to, one per attribute kind: a review of every change
//! to generated code.

use proc_macro2::TokenStream;
use quote::quote;

fn pretty(tokens: TokenStream) -> String {
    let file: syn::File = syn::parse2(tokens).expect("the expansion parses as items");
    prettyplease::unparse(&file)
}

fn table(input: TokenStream) -> String {
    pretty(crate::table::derive(input))
}

#[test]
fn table_attribute() {
    insta::assert_snapshot!(table(quote! {
        #[table(name = "todos", schema = "app", force_rls, policy_indexes = false, renamed_from = "todo")]
        #[allow_lint(rls_enabled_no_policy, unused_grant, reason = "private")]
        pub struct Todo {
            #[column(primary_key)]
            pub id: i64,
        }
    }));
}

#[test]
fn existing_table() {
    insta::assert_snapshot!(table(quote! {
        #[table(schema = "storage", name = "objects", existing)]
        #[policy(name = "owners read", for = select, to = authenticated, using = auth_uid(owner_id))]
        pub struct StorageObject {
            pub id: uuid::Uuid,
            pub owner_id: Option<String>,
        }
    }));
}

#[test]
fn column_options() {
    insta::assert_snapshot!(table(quote! {
        pub struct Todo {
            #[column(primary_key, identity = always)]
            pub id: i64,
            #[column(default = auth_user_id(), policy_index = false)]
            pub user_id: String,
            #[column(rename = "title", renamed_from = "task", unique, index)]
            pub task: String,
            #[column(default = false)]
            pub is_complete: bool,
            #[column(default = now())]
            pub inserted_at: time::OffsetDateTime,
            #[column(sql_type = "varchar(80)", default = sql("'x'"))]
            pub note: Option<String>,
        }
    }));
}

#[test]
fn crud_policy() {
    insta::assert_snapshot!(table(quote! {
        #[crud_policy(role = authenticated, read = auth_uid(user_id), modify = auth_uid(user_id))]
        #[crud_policy(role = [anon, crate::roles::EDITOR], read = true)]
        pub struct Todo {
            #[column(primary_key, identity)]
            pub id: i64,
            pub user_id: String,
        }
    }));
}

#[test]
fn policy() {
    insta::assert_snapshot!(table(quote! {
        #[policy(name = "owner writes", as = restrictive, for = update, to = authenticated,
                 using = auth_uid(user_id) && !archived, with_check = user_id.is_in(["a", "b"]))]
        #[policy(name = "everyone reads", for = select, using = is_not_null(user_id) || priority >= -1)]
        pub struct Todo {
            #[column(primary_key)]
            pub id: i64,
            pub user_id: String,
            pub archived: bool,
            pub priority: i32,
        }
    }));
}

#[test]
fn grant() {
    insta::assert_snapshot!(table(quote! {
        #[grant(to = [authenticated, service_role], privileges = [select, update])]
        #[grant(to = anon, privileges = [all])]
        #[grant(to = public, privileges = [])]
        pub struct Todo {
            #[column(primary_key)]
            pub id: i64,
        }
    }));
}

#[test]
fn keys_indexes_and_checks() {
    insta::assert_snapshot!(table(quote! {
        #[primary_key(tenant, id)]
        #[unique(tenant, slug)]
        #[index(columns = [tenant, created], unique, name = "by_created")]
        #[index(columns = slug)]
        #[check(budget >= 0)]
        #[check(name = "slug_not_empty", slug != "")]
        pub struct Project {
            pub tenant: i64,
            pub id: i64,
            pub slug: String,
            pub created: i64,
            pub budget: i32,
        }
    }));
}

#[test]
fn references() {
    insta::assert_snapshot!(table(quote! {
        pub struct Task {
            #[column(primary_key)]
            pub id: i64,
            #[column(references = Project::id, on_delete = cascade, on_update = set_null)]
            pub project_id: Option<i64>,
            #[column(references = crate::users::User::id)]
            pub owner: String,
        }
    }));
}

/// Issue 9: a sub-select, a lookup and its call, a claim: the model's ops read the other
/// table's handles, and `const` items check the tables, columns and types named.
#[test]
fn organizations() {
    insta::assert_snapshot!(table(quote! {
        #[primary_key(org_id, user_id)]
        #[lookup(name = "my_org_ids", select = org_id, filter = user_id == auth_user_id())]
        #[policy(name = "members", for = select, to = authenticated, using = org_id.is_in(Membership::my_org_ids))]
        #[policy(
            name = "boards",
            for = select,
            to = authenticated,
            using = board_id.is_in(Board::id.filter(Board::org_id == clerk_org_id())) && org_id == auth_claim(["o", "id"])
        )]
        pub struct Membership {
            pub org_id: String,
            pub user_id: String,
            pub board_id: i64,
        }
    }));
}

#[test]
fn errors_still_define_the_table() {
    insta::assert_snapshot!(table(quote! {
        #[crud_policy(role = authenticatd, read = auth_uid(usr_id))]
        pub struct Todo {
            pub user_id: String,
        }
    }));
}

#[test]
fn pg_enum() {
    let input = quote! {
        #[pg_enum(name = "task_status")]
        pub enum TaskStatus { Todo, InProgress, #[pg_enum(rename = "done!")] Done }
    };
    insta::assert_snapshot!(pretty(crate::pg_enum::derive(input)));
}

/// `crate = "..."` moves every path of the expansion, and only those, to the renamed crate.
#[test]
fn renamed_crate() {
    let struct_tokens = |attr: TokenStream| {
        quote! {
            #attr
            #[crud_policy(role = authenticated, read = auth_uid(user_id), modify = auth_uid(user_id))]
            pub struct Todo {
                #[column(primary_key, identity)]
                pub id: i64,
                pub user_id: String,
                pub status: Status,
            }
        }
    };
    let default = table(struct_tokens(quote!()));
    let renamed = table(struct_tokens(quote!(#[table(crate = "db")])));
    assert!(!renamed.contains("pgrls"), "{renamed}");
    assert_eq!(
        squeezed(&renamed),
        squeezed(&default.replace("::pgrls::", "db::"))
    );

    let enum_tokens = |attr: TokenStream| quote!(#attr pub enum Status { Open, Done });
    let default = pretty(crate::pg_enum::derive(enum_tokens(quote!())));
    let renamed = pretty(crate::pg_enum::derive(enum_tokens(
        quote!(#[pg_enum(crate = "db")]),
    )));
    assert!(!renamed.contains("pgrls"), "{renamed}");
    assert_eq!(
        squeezed(&renamed),
        squeezed(&default.replace("::pgrls::", "db::"))
    );
}

/// Code without its whitespace and trailing commas: the shorter paths wrap differently.
fn squeezed(code: &str) -> String {
    let code: String = code.split_whitespace().collect();
    code.replace(",)", ")")
        .replace(",]", "]")
        .replace(",}", "}")
        .replace(",>", ">")
}
