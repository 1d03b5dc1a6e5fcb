//! Resources: fixed URIs and RFC 6570 templates, each with a read handler.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

use oxmcp_proto::model::{self, ResourceContents};
use oxmcp_proto::modern::model::{CacheHint, CacheScope};

use super::context::Context;
use super::uri_template::UriTemplate;
use super::{BoxFuture, Completer};
use crate::error::Error;

type ReadFn =
    dyn Fn(String, Context) -> BoxFuture<Result<Vec<ResourceContents>, Error>> + Send + Sync;
type TemplateReadFn = dyn Fn(String, HashMap<String, String>, Context) -> BoxFuture<Result<Vec<ResourceContents>, Error>>
    + Send
    + Sync;

/// A resource at a fixed URI.
#[derive(Clone)]
pub struct Resource {
    pub(crate) def: model::Resource,
    pub(crate) read: Arc<ReadFn>,
    pub(crate) cache: Option<CacheHint>,
}

impl std::fmt::Debug for Resource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Resource")
            .field("uri", &self.def.uri)
            .finish_non_exhaustive()
    }
}

impl Resource {
    /// A resource whose contents `read` produces on each `resources/read`.
    pub fn new<F, Fut>(uri: impl Into<String>, name: impl Into<String>, read: F) -> Resource
    where
        F: Fn(String, Context) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Vec<ResourceContents>, Error>> + Send + 'static,
    {
        let def = model::Resource {
            uri: uri.into(),
            name: name.into(),
            ..Default::default()
        };
        Resource {
            def,
            read: Arc::new(move |uri, ctx| Box::pin(read(uri, ctx)) as BoxFuture<_>),
            cache: None,
        }
    }

    /// A resource with fixed text contents.
    pub fn text(
        uri: impl Into<String>,
        name: impl Into<String>,
        mime_type: impl Into<String>,
        text: impl Into<String>,
    ) -> Resource {
        let mime: String = mime_type.into();
        let text: String = text.into();
        let m = mime.clone();
        let mut r = Resource::new(uri, name, move |uri, _ctx| {
            let contents = ResourceContents::text(uri, Some(m.clone()), text.clone());
            async move { Ok(vec![contents]) }
        });
        r.def.mime_type = Some(mime);
        r
    }

    /// Sets the description.
    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.def.description = Some(text.into());
        self
    }

    /// The caching hint of its `resources/read` results under 2026-07-28 (`ttlMs`,
    /// `cacheScope`; default: the server's [`CacheHints::read`](super::CacheHints)).
    pub fn cache(mut self, ttl: std::time::Duration, scope: CacheScope) -> Self {
        self.cache = Some(super::modern::cache_hint(ttl, scope));
        self
    }

    /// Sets the MIME type.
    pub fn mime_type(mut self, mime: impl Into<String>) -> Self {
        self.def.mime_type = Some(mime.into());
        self
    }

    /// Sets the human-readable title.
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.def.title = Some(title.into());
        self
    }

    /// The definition `resources/list` shows.
    pub fn definition(&self) -> &model::Resource {
        &self.def
    }
}

/// A family of resources named by an RFC 6570 URI template (see [`UriTemplate`]).
#[derive(Clone)]
pub struct ResourceTemplate {
    pub(crate) def: model::ResourceTemplate,
    pub(crate) pattern: UriTemplate,
    pub(crate) read: Arc<TemplateReadFn>,
    pub(crate) completions: HashMap<String, Completer>,
    pub(crate) cache: Option<CacheHint>,
}

impl std::fmt::Debug for ResourceTemplate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResourceTemplate")
            .field("uri_template", &self.def.uri_template)
            .finish_non_exhaustive()
    }
}

impl ResourceTemplate {
    /// A template; `read` gets the URI and its variables. Fails if the template uses
    /// expressions [`UriTemplate`] does not support.
    pub fn new<F, Fut>(
        uri_template: impl Into<String>,
        name: impl Into<String>,
        read: F,
    ) -> Result<ResourceTemplate, Error>
    where
        F: Fn(String, HashMap<String, String>, Context) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Vec<ResourceContents>, Error>> + Send + 'static,
    {
        let uri_template = uri_template.into();
        let pattern = UriTemplate::parse(&uri_template).map_err(Error::failed)?;
        let def = model::ResourceTemplate {
            uri_template,
            name: name.into(),
            ..Default::default()
        };
        Ok(ResourceTemplate {
            def,
            pattern,
            read: Arc::new(move |uri, vars, ctx| Box::pin(read(uri, vars, ctx)) as BoxFuture<_>),
            completions: HashMap::new(),
            cache: None,
        })
    }

    /// Sets the description.
    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.def.description = Some(text.into());
        self
    }

    /// The caching hint of its `resources/read` results under 2026-07-28 (`ttlMs`,
    /// `cacheScope`; default: the server's [`CacheHints::read`](super::CacheHints)).
    pub fn cache(mut self, ttl: std::time::Duration, scope: CacheScope) -> Self {
        self.cache = Some(super::modern::cache_hint(ttl, scope));
        self
    }

    /// Sets the MIME type of the resources.
    pub fn mime_type(mut self, mime: impl Into<String>) -> Self {
        self.def.mime_type = Some(mime.into());
        self
    }

    /// Sets the human-readable title.
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.def.title = Some(title.into());
        self
    }

    /// Completes values of variable `name` for `completion/complete`.
    pub fn complete(
        mut self,
        name: &str,
        f: impl Fn(&str, &HashMap<String, String>) -> Vec<String> + Send + Sync + 'static,
    ) -> Self {
        self.completions.insert(name.to_owned(), Arc::new(f));
        self
    }

    /// The definition `resources/templates/list` shows.
    pub fn definition(&self) -> &model::ResourceTemplate {
        &self.def
    }
}
