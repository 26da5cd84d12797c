//! A blog whose authors are private: an author is seen by its own user only, while everyone
//! signed in reads every post, so a visible post can reference a hidden author.

use pgrls::Table;

/// An author is seen by its own user only; everyone signed in reads every post. A post's
/// author can thus be hidden from who reads the post.
#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "authors")]
#[crud_policy(role = authenticated, read = auth_uid(user_id), modify = auth_uid(user_id))]
pub struct Author {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(default = auth_user_id())]
    pub user_id: String,
    pub name: String,
}

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "posts")]
#[policy(name = "everyone reads posts", for = select, to = authenticated, using = true)]
pub struct Post {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(references = Author::id)]
    pub author_id: i64,
    pub title: String,
}

pub const BLOG: pgrls::Schema = pgrls::Schema::new(&[Author::TABLE, Post::TABLE]);
