//! First end-to-end checks over loopback.

use crate::common::Api;

#[tokio::test]
async fn small_seed_reads_back_through_the_api() {
    let api = Api::small().await;
    let me = api.get("/v1/organizations/me").await;
    assert_eq!(me.ok()["name"], "Acme Research");
    let users = api.get("/v1/organizations/users?limit=100").await;
    assert_eq!(users.ok()["data"].as_array().unwrap().len(), 8);
    let ws = api.get("/v1/organizations/workspaces?beta=true").await;
    assert_eq!(ws.ok()["data"].as_array().unwrap().len(), 3);
    let keys = api.get("/v1/organizations/api_keys?limit=100").await;
    assert_eq!(keys.ok()["data"].as_array().unwrap().len(), 8);
    let invites = api.get("/v1/organizations/invites").await;
    assert_eq!(invites.ok()["data"].as_array().unwrap().len(), 3);
    let snap = api.emu.state();
    assert_eq!(snap.users.len(), 8);
    api.emu.shutdown().await;
}
