"""The app boots on a real PostgreSQL, migrates, and answers liveness and readiness."""


def test_liveness_on_every_path(client):
    for path in ("/healthz", "/health", "/api/v1/health"):
        response = client.get(path, base_url="http://nowhere.example")
        assert response.status_code == 200
        assert response.json == {"status": "ok"}


def test_readiness_after_migrate_all(client):
    for path in ("/readyz", "/api/v1/health/ready"):
        response = client.get(path)
        assert response.status_code == 200, response.json
        assert response.json == {"status": "ok"}
