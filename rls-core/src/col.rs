use std::marker::PhantomData;

/// A typed handle on one column of table `T` holding Rust values of type `V`, emitted by
/// `#[derive(Table)]` as an associated constant named after the field (`Todo::user_id`).
pub struct Col<T, V> {
    /// The table's schema.
    pub schema: &'static str,
    /// The table's name.
    pub table: &'static str,
    /// The column's SQL name.
    pub name: &'static str,
    /// The column alone is the primary key or unique: a foreign key may point at it.
    pub unique: bool,
    marker: PhantomData<fn() -> (T, V)>,
}

impl<T, V> Col<T, V> {
    /// The handle on column `name` of `schema.table`; `#[derive(Table)]` emits these.
    pub const fn new(
        schema: &'static str,
        table: &'static str,
        name: &'static str,
        unique: bool,
    ) -> Self {
        Col {
            schema,
            table,
            name,
            unique,
            marker: PhantomData,
        }
    }
}

/// A typed handle on a `#[lookup]` function of table `T` returning values of type `V`,
/// emitted by `#[derive(Table)]` as an associated constant named after the function
/// (`Membership::my_org_ids`), for policies: `org_id.is_in(Membership::my_org_ids)`.
pub struct LookupFn<T, V> {
    /// The table's schema, which the function is in.
    pub schema: &'static str,
    /// The name of the table the function reads.
    pub table: &'static str,
    /// The function's name (in the table's schema).
    pub name: &'static str,
    marker: PhantomData<fn() -> (T, V)>,
}

impl<T, V> LookupFn<T, V> {
    /// The handle on function `schema.name`, which reads `table`; `#[derive(Table)]` emits
    /// these.
    pub const fn new(schema: &'static str, table: &'static str, name: &'static str) -> Self {
        LookupFn {
            schema,
            table,
            name,
            marker: PhantomData,
        }
    }
}

impl<T, V> Clone for Col<T, V> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T, V> Copy for Col<T, V> {}

impl<T, V> std::fmt::Debug for Col<T, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.{}", self.schema, self.table, self.name)
    }
}
