//! Every module's router, merged in one place (composition: only `startup` knows them all).

use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "remote-hearing",
        description = "Remote video adjudication of traffic violations",
        version = "1"
    ),
    components(schemas(crate::error::ErrorBody))
)]
struct ApiDoc;

pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(crate::identity::router())
        .merge(crate::audit::router())
        .merge(crate::audit::tiles::router())
        .merge(crate::hearing::router())
        .merge(crate::hearing::files::router())
        .merge(crate::booking::router())
        .merge(crate::sms::router())
        .merge(crate::call::router())
        .merge(crate::records::router())
        .merge(crate::hearing::reads::router())
        .merge(crate::hearing::search::router())
}
