"""POST /api/extract: facts found in free text, for the console's notes and any API caller."""
from __future__ import annotations


def test_daughter_describing_a_long_lie_gets_the_fall_facts(client, service_headers):
    response = client.post("/api/extract", headers=service_headers,
                           json={"text": "Mum's fallen, she's on the floor and can't get up but she isn't hurt"})
    assert response.status_code == 200
    body = response.get_json()
    assert body["facts"]["fallen"] is True
    assert body["facts"]["on_floor_cannot_get_up"] is True
    assert any(item["fact"] == "fallen" for item in body["evidence"])


def test_condition_heard_in_passing_is_named_as_a_partial_list(client, service_headers):
    response = client.post("/api/extract", headers=service_headers,
                           json={"text": "Dad has Parkinson's and he fell this morning"})
    body = response.get_json()
    assert body["facts"]["long_term_conditions"] == ["parkinsons"]
    assert body["partial"] == ["long_term_conditions"]


def test_fall_without_a_list_fact_names_no_partial_list(client, service_headers):
    response = client.post("/api/extract", headers=service_headers, json={"text": "Dad fell this morning"})
    assert response.get_json()["partial"] == []


def test_denied_chest_pain_is_not_read_as_chest_pain(client, service_headers):
    response = client.post("/api/extract", headers=service_headers,
                           json={"text": "No chest pain but my legs are swollen"})
    assert response.status_code == 200
    assert response.get_json()["facts"].get("chest_pain") is not True


def test_extract_without_text_is_a_422_naming_the_field(client, service_headers):
    response = client.post("/api/extract", headers=service_headers, json={"words": "hello"})
    assert response.status_code == 422
    assert response.get_json()["field"] == "text"


def test_extract_of_malformed_json_is_a_400(client, service_headers):
    response = client.post("/api/extract", headers=service_headers, data="{not json",
                           content_type="application/json")
    assert response.status_code == 400


def test_extract_needs_credentials(client):
    assert client.post("/api/extract", json={"text": "she fell"}).status_code == 401
