//! Remote files through `object_store`: `https://host/path` (HTTP `HEAD` and ranged `GET`)
//! and `s3://bucket/key` (Amazon S3 or a compatible server; also a glob, or a folder ending
//! in `/`, listed). S3 credentials, region and
//! endpoint come from the usual `AWS_*` environment variables (`AWS_ACCESS_KEY_ID`,
//! `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_REGION`, `AWS_ENDPOINT_URL`); an
//! `http://` endpoint is allowed as given (a local MinIO or moto server).
//!
//! A store is built for each open, from the environment as it is then, and registered with
//! the session under the URL's `scheme://authority`, where DataFusion's scans find it.

use std::sync::Arc;
use std::time::Duration;

use corepy_planner::{CorepyError, Result};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::Session as CatalogSession;
use datafusion::object_store::path::Path as StorePath;
use datafusion::object_store::{ObjectMeta, ObjectStore, ObjectStoreExt};
use futures::TryStreamExt;
use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
use object_store::http::HttpBuilder;
use object_store::{BackoffConfig, ClientOptions, RetryConfig};
use url::Url;

use super::resolve::is_glob;

/// True when `path` is a URL corepy reads remotely (`scheme://…`, not `file://`).
pub fn is_remote(path: &str) -> bool {
    match path.split_once("://") {
        Some((scheme, _)) => {
            !scheme.is_empty()
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '+')
                && !scheme.eq_ignore_ascii_case("file")
        }
        None => false,
    }
}

/// The objects a remote URL (or, on S3, a glob) names, sorted, with their store.
pub struct RemoteFiles {
    pub store: Arc<dyn ObjectStore>,
    /// The objects, each with its full URL.
    pub objects: Vec<(String, ObjectMeta)>,
}

/// Resolves `address` and registers its store with `state`'s runtime.
pub async fn resolve_remote(state: &dyn CatalogSession, address: &str) -> Result<RemoteFiles> {
    let url = Url::parse(address).map_err(|e| {
        CorepyError::invalid_argument(format!("'{address}' is not a valid URL: {e}"))
    })?;
    let host = url.host_str().filter(|h| !h.is_empty()).ok_or_else(|| {
        CorepyError::invalid_argument(format!("the URL '{address}' names no host or bucket"))
    })?;
    let scheme = url.scheme().to_ascii_lowercase();
    let store: Arc<dyn ObjectStore> = match scheme.as_str() {
        "http" | "https" => Arc::new(http_store(&url, address)?),
        "s3" | "s3a" => Arc::new(s3_store(host, address)?),
        other => {
            return Err(CorepyError::invalid_argument(format!(
                "cannot read '{address}': the URL scheme '{other}' is not supported; corepy \
                 reads local paths, http:// and https:// URLs, and s3:// URLs"
            )))
        }
    };
    let base = store_base(&url);
    let base_url = Url::parse(&base).map_err(|e| CorepyError::invalid_argument(e.to_string()))?;
    state
        .runtime_env()
        .register_object_store(&base_url, Arc::clone(&store));

    if url.query().is_some() {
        return Err(CorepyError::invalid_argument(format!(
            "cannot read '{address}': URLs with a query string (signed URLs, tokens) are not \
             supported yet; use an s3:// URL with AWS_* credentials"
        )));
    }
    let path = percent_decoded_path(&url, address)?;
    let folder = url.path().ends_with('/');
    let objects = if is_glob(&path) || folder {
        if scheme.starts_with("http") {
            return Err(CorepyError::invalid_argument(format!(
                "cannot read '{address}': an HTTP server cannot list its files, so a glob or \
                 a folder cannot be expanded; name each file, or use an s3:// URL"
            )));
        }
        let listed = if folder {
            list_folder(store.as_ref(), &path, address).await?
        } else {
            list_matching(store.as_ref(), &path, address).await?
        };
        let mut objects: Vec<(String, ObjectMeta)> = listed
            .into_iter()
            .map(|meta| (format!("{base}/{}", meta.location), meta))
            .collect();
        if objects.is_empty() {
            return Err(CorepyError::PathNotFound {
                path: address.to_string(),
            });
        }
        objects.sort_by(|a, b| a.0.cmp(&b.0));
        objects
    } else if path.is_empty() {
        return Err(CorepyError::invalid_argument(format!(
            "the URL '{address}' names no file"
        )));
    } else {
        let location = StorePath::from(path.as_str());
        let meta = store
            .head(&location)
            .await
            .map_err(|e| fetch_error(address, e))?;
        vec![(address.to_string(), meta)]
    };
    Ok(RemoteFiles { store, objects })
}

/// The schema of a remote Arrow IPC file, read from its footer (two ranged reads), as a
/// local `FileReader` does. DataFusion's inference over a remote stream assumes the 8-byte
/// preamble of older writers and misreads the 64-byte-aligned files arrow-rs writes now.
pub async fn ipc_footer_schema(
    store: &dyn ObjectStore,
    meta: &ObjectMeta,
    name: &str,
) -> Result<SchemaRef> {
    let corrupt = |detail: String| {
        CorepyError::file_format(name, format!("not a valid Arrow IPC file: {detail}"))
    };
    let size = meta.size;
    // The file ends with the footer, its length (4 bytes) and `ARROW1`.
    let trailer = store
        .get_range(&meta.location, size.saturating_sub(10)..size)
        .await
        .map_err(|e| fetch_error(name, e))?;
    let length = i32::from_le_bytes([trailer[0], trailer[1], trailer[2], trailer[3]]);
    let length = u64::try_from(length)
        .ok()
        .filter(|l| *l + 10 <= size)
        .ok_or_else(|| {
            corrupt(format!(
                "its footer length ({length}) does not fit the file"
            ))
        })?;
    let footer_bytes = store
        .get_range(&meta.location, size - 10 - length..size - 10)
        .await
        .map_err(|e| fetch_error(name, e))?;
    let footer = datafusion::arrow::ipc::root_as_footer(&footer_bytes)
        .map_err(|e| corrupt(format!("its footer is unreadable ({e})")))?;
    let schema = footer
        .schema()
        .ok_or_else(|| corrupt("its footer holds no schema".into()))?;
    Ok(Arc::new(datafusion::arrow::ipc::convert::fb_to_schema(
        schema,
    )))
}

/// `scheme://authority` of a URL: the key its store is registered under.
fn store_base(url: &Url) -> String {
    format!(
        "{}://{}",
        url.scheme(),
        &url[url::Position::BeforeHost..url::Position::AfterPort]
    )
}

/// The URL's path without its leading `/`, percent-decoded (object keys are stored
/// decoded); empty for the root.
fn percent_decoded_path(url: &Url, address: &str) -> Result<String> {
    let path = StorePath::from_url_path(url.path()).map_err(|e| {
        CorepyError::invalid_argument(format!("the URL '{address}' has an invalid path: {e}"))
    })?;
    Ok(path.as_ref().to_string())
}

/// Every object under the glob's fixed prefix whose key matches it.
async fn list_matching(
    store: &dyn ObjectStore,
    pattern: &str,
    address: &str,
) -> Result<Vec<ObjectMeta>> {
    let matcher = glob::Pattern::new(pattern)
        .map_err(|e| CorepyError::invalid_argument(format!("invalid glob '{address}': {e}")))?;
    let fixed = &pattern[..pattern.find(['*', '?', '[']).unwrap_or(pattern.len())];
    let prefix = fixed.rfind('/').map(|i| StorePath::from(&fixed[..i]));
    let options = glob::MatchOptions {
        require_literal_separator: true,
        ..Default::default()
    };
    Ok(list(store, prefix.as_ref(), address)
        .await?
        .into_iter()
        .filter(|meta| matcher.matches_with(meta.location.as_ref(), options))
        .collect())
}

/// Every object under a folder (`s3://bucket/sales/`), at any depth, as a local directory
/// is read: names starting with `.` or `_` (`_SUCCESS`, folder markers) are left out.
async fn list_folder(
    store: &dyn ObjectStore,
    folder: &str,
    address: &str,
) -> Result<Vec<ObjectMeta>> {
    let prefix = (!folder.is_empty()).then(|| StorePath::from(folder));
    Ok(list(store, prefix.as_ref(), address)
        .await?
        .into_iter()
        .filter(|meta| {
            meta.location
                .filename()
                .is_some_and(|name| !name.starts_with('.') && !name.starts_with('_'))
        })
        .collect())
}

async fn list(
    store: &dyn ObjectStore,
    prefix: Option<&StorePath>,
    address: &str,
) -> Result<Vec<ObjectMeta>> {
    store
        .list(prefix)
        .try_collect()
        .await
        .map_err(|e| fetch_error(address, e))
}

/// A missing object is `PathNotFound`; anything else (refused, forbidden, a timeout) names
/// the URL.
fn fetch_error(address: &str, error: object_store::Error) -> CorepyError {
    match error {
        object_store::Error::NotFound { .. } => CorepyError::PathNotFound {
            path: address.to_string(),
        },
        other => CorepyError::file_format(address, format!("cannot read it: {other}")),
    }
}

/// Remote calls fail within seconds, not after object_store's default three minutes of
/// retries: a wrong address must not look like a hang.
fn client_options(allow_http: bool) -> (ClientOptions, RetryConfig) {
    let options = ClientOptions::new()
        .with_allow_http(allow_http)
        .with_connect_timeout(Duration::from_secs(10))
        .with_timeout(Duration::from_secs(120));
    let retry = RetryConfig {
        backoff: BackoffConfig {
            init_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(2),
            base: 2.0,
        },
        max_retries: 3,
        retry_timeout: Duration::from_secs(20),
    };
    (options, retry)
}

fn http_store(url: &Url, address: &str) -> Result<object_store::http::HttpStore> {
    let (options, retry) = client_options(url.scheme().eq_ignore_ascii_case("http"));
    HttpBuilder::new()
        .with_url(store_base(url))
        .with_client_options(options)
        .with_retry(retry)
        .build()
        .map_err(|e| CorepyError::invalid_argument(format!("cannot read '{address}': {e}")))
}

fn s3_store(bucket: &str, address: &str) -> Result<object_store::aws::AmazonS3> {
    let builder = AmazonS3Builder::from_env().with_bucket_name(bucket);
    let endpoint = builder
        .get_config_value(&AmazonS3ConfigKey::Endpoint)
        .unwrap_or_default();
    let (options, retry) = client_options(endpoint.starts_with("http://"));
    let builder = if builder
        .get_config_value(&AmazonS3ConfigKey::Region)
        .is_none()
        && builder
            .get_config_value(&AmazonS3ConfigKey::DefaultRegion)
            .is_none()
    {
        builder.with_region("us-east-1")
    } else {
        builder
    };
    builder
        .with_client_options(options)
        .with_retry(retry)
        .build()
        .map_err(|e| CorepyError::invalid_argument(format!("cannot read '{address}': {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remote_paths_are_urls() {
        assert!(is_remote("https://example.com/t.parquet"));
        assert!(is_remote("s3://bucket/t.csv"));
        assert!(!is_remote("file:///tmp/t.csv"));
        assert!(!is_remote("data/t.csv"));
        assert!(!is_remote("C:\\data\\t.csv"));
    }

    #[test]
    fn store_base_keeps_the_port() {
        let url = Url::parse("http://127.0.0.1:8123/a/b.csv").unwrap();
        assert_eq!(store_base(&url), "http://127.0.0.1:8123");
        let url = Url::parse("s3://bucket/a/b.csv").unwrap();
        assert_eq!(store_base(&url), "s3://bucket");
    }

    #[test]
    fn paths_are_percent_decoded() {
        let url = Url::parse("http://h/a%20b/c.csv").unwrap();
        assert_eq!(percent_decoded_path(&url, "x").unwrap(), "a b/c.csv");
        assert_eq!(
            percent_decoded_path(&Url::parse("s3://b/").unwrap(), "x").unwrap(),
            ""
        );
    }
}
