//! What the assertions run: any builder's statement, kept with its SQL for the report.

use std::borrow::Cow;

use sqlx::{AssertSqlSafe, PgConnection};

use crate::query::{
    Bind, Columns, Delete, Insert, Model, Projection, QueryError, Select, Statement, Update,
    arguments, row_list,
};

/// A statement the assertions can run: `T::select()` (with its filters), `.columns(..)`,
/// `T::insert(..)`, `T::update()..`, `T::delete()..`. Reads count the rows returned, writes
/// the rows written.
pub trait Probe: sealed::Sealed + Send {
    #[doc(hidden)]
    fn prepare(self) -> Prepared;
}

mod sealed {
    pub trait Sealed {}
}

/// A builder's statement, ready to run (or the error building it gave).
#[doc(hidden)]
pub struct Prepared {
    sql: Cow<'static, str>,
    binds: Result<Vec<Box<dyn Bind>>, QueryError>,
    reads: bool,
}

impl Prepared {
    fn read(built: Result<Statement, QueryError>) -> Prepared {
        match built {
            Ok((sql, binds)) => Prepared {
                sql,
                binds: Ok(binds),
                reads: true,
            },
            Err(e) => Prepared {
                sql: Cow::Borrowed("(a select that yields no statement)"),
                binds: Err(e),
                reads: true,
            },
        }
    }

    fn write(sql: impl Into<Cow<'static, str>>, binds: Vec<Box<dyn Bind>>) -> Prepared {
        Prepared {
            sql: sql.into(),
            binds: Ok(binds),
            reads: false,
        }
    }

    /// The SQL, as the report shows it.
    pub(crate) fn sql(&self) -> &str {
        &self.sql
    }

    /// Rows returned by a read, rows written by a write.
    pub(crate) async fn run(self, conn: &mut PgConnection) -> Result<u64, QueryError> {
        let args = arguments(self.binds?)?;
        let query = sqlx::query_with(AssertSqlSafe(self.sql), args);
        if self.reads {
            Ok(query.fetch_all(conn).await?.len() as u64)
        } else {
            Ok(query.execute(conn).await?.rows_affected())
        }
    }
}

impl<T: Model> sealed::Sealed for Select<T> {}
impl<T: Model> Probe for Select<T> {
    fn prepare(self) -> Prepared {
        Prepared::read(self.build(Some(row_list(T::TABLE)), "select"))
    }
}

impl<T: Model, C: Columns<T> + Send> sealed::Sealed for Projection<T, C> {}
impl<T: Model, C: Columns<T> + Send> Probe for Projection<T, C> {
    fn prepare(self) -> Prepared {
        let list = self.columns.list();
        Prepared::read(self.select.build(Some(&list), "columns"))
    }
}

impl<T: Model> sealed::Sealed for Insert<T> {}
impl<T: Model> Probe for Insert<T> {
    fn prepare(self) -> Prepared {
        match self.build(false) {
            Ok(Some((sql, binds))) => Prepared::write(sql, binds),
            Ok(None) => Prepared {
                sql: Cow::Borrowed("(an insert of no rows)"),
                binds: Err(QueryError::Usage("an insert of no rows runs no statement")),
                reads: false,
            },
            Err(e) => Prepared {
                sql: Cow::Borrowed("(an insert refused)"),
                binds: Err(e),
                reads: false,
            },
        }
    }
}

impl<T: Model> sealed::Sealed for Update<T> {}
impl<T: Model> Probe for Update<T> {
    fn prepare(self) -> Prepared {
        match self.build(false) {
            Ok((sql, binds)) => Prepared::write(sql, binds),
            Err(e) => Prepared {
                sql: Cow::Borrowed("(an update without .set)"),
                binds: Err(e),
                reads: false,
            },
        }
    }
}

impl<T: Model> sealed::Sealed for Delete<T> {}
impl<T: Model> Probe for Delete<T> {
    fn prepare(self) -> Prepared {
        match self.build(false) {
            Ok((sql, binds)) => Prepared::write(sql, binds),
            Err(e) => Prepared {
                sql: Cow::Borrowed("(a delete refused)"),
                binds: Err(e),
                reads: false,
            },
        }
    }
}

impl sealed::Sealed for Prepared {}
impl Probe for Prepared {
    fn prepare(self) -> Prepared {
        self
    }
}
