//! Pagination and plain request parameters.
//!
//! A list request (`tools/list`, `resources/list`, `resources/templates/list`,
//! `prompts/list`, `tasks/list`) may carry an opaque `cursor`; its result carries
//! `nextCursor` while there are more pages, and no `nextCursor` on the last one. A client
//! passes `nextCursor` back unchanged as the next request's `cursor`; the page size is the
//! server's to choose.

use serde::{Deserialize, Serialize};

use super::{
    ListPromptsResult, ListResourceTemplatesResult, ListResourcesResult, ListTasksResult,
    ListToolsResult, Meta,
};

/// An opaque pagination token.
pub type Cursor = String;

/// The parameters of a list request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaginatedRequestParams {
    /// Where to go on from: a previous result's `nextCursor`; absent for the first page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<Cursor>,
    /// Metadata (`progressToken`, …).
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
}

/// The parameters of a request that carries nothing but `_meta` (`ping`, `roots/list`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestParams {
    /// Metadata (`progressToken`, …).
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
}

/// A result that is one page of a list.
pub trait Paginated {
    /// The cursor of the next page; `None` on the last page.
    fn next_cursor(&self) -> Option<&str>;
}

macro_rules! paginated {
    ($($t:ty),*) => {$(
        impl Paginated for $t {
            fn next_cursor(&self) -> Option<&str> {
                self.next_cursor.as_deref()
            }
        }
    )*};
}

paginated!(
    ListToolsResult,
    ListResourcesResult,
    ListResourceTemplatesResult,
    ListPromptsResult,
    ListTasksResult
);
