"""RAG endpoints: answers with citations, validation, plant-level RBAC and SSE streaming."""

import json

import httpx
import pytest

pytestmark = [pytest.mark.anyio, pytest.mark.lab("lab02")]

QUESTION = "What should be checked when a hydraulic leak is found?"


def parse_sse(text: str) -> list[tuple[str, dict]]:  # type: ignore[type-arg]
    events = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        name, data = "message", []
        for line in block.split("\n"):
            if line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].strip())
        if data:
            events.append((name, json.loads("\n".join(data))))
    return events


async def test_query_answers_with_citations_from_the_plant(client: httpx.AsyncClient, auth, plant: str) -> None:  # type: ignore[no-untyped-def]
    response = await client.post("/v1/rag/query", json={"question": QUESTION, "plant": plant}, headers=auth())
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["answer"] and body["plant"] == plant
    assert 1 <= len(body["citations"]) <= 5
    assert {"number", "document_id", "title", "section", "snippet", "score"} <= set(body["citations"][0])
    assert 0.0 <= body["groundedness"] <= 1.0
    assert body["model_version"] == "extractive-v1"
    assert body["index_version"].startswith("bm25s-")


async def test_query_is_scoped_to_equipment(client: httpx.AsyncClient, auth, plant: str, equipment: str, app) -> None:  # type: ignore[no-untyped-def]
    body = {"question": "maintenance interval inspection", "plant": plant, "equipment": equipment}
    response = await client.post("/v1/rag/query", json=body, headers=auth())
    assert response.status_code == 200, response.text
    cited = [c["document_id"] for c in response.json()["citations"]]
    corpus = app.state.services.corpus
    assert any(equipment in corpus.document(doc_id).equipment for doc_id in cited)


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"question": "x"}, "question"),
        ({"question": None}, "question"),
        ({"plant": "not-a-plant"}, "plant"),
        ({"top_k": 0}, "top_k"),
        ({"top_k": 500}, "top_k"),
        ({"equipment": "PRS 101"}, "equipment"),
        ({"unexpected": 1}, "unexpected"),
    ],
    ids=["short-question", "null-question", "bad-plant", "top_k-zero", "top_k-huge", "bad-equipment", "extra-field"],
)
async def test_invalid_queries_are_422_with_field_errors(client, auth, plant, patch, field) -> None:  # type: ignore[no-untyped-def]
    body = {"question": QUESTION, "plant": plant, **patch}
    response = await client.post("/v1/rag/query", json=body, headers=auth())
    assert response.status_code == 422
    locations = [tuple(err["loc"]) for err in response.json()["detail"]]
    assert ("body", field) in locations


async def test_unknown_equipment_of_own_plant_is_422(client, auth, plant) -> None:  # type: ignore[no-untyped-def]
    body = {"question": QUESTION, "plant": plant, "equipment": f"{plant}-ZZZ-999"}
    response = await client.post("/v1/rag/query", json=body, headers=auth())
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "equipment"]
    assert response.json()["detail"][0]["msg"] == "Unknown equipment"


async def test_malformed_json_is_422(client, auth) -> None:  # type: ignore[no-untyped-def]
    response = await client.post(
        "/v1/rag/query", content=b"{not json", headers={**auth(), "content-type": "application/json"}
    )
    assert response.status_code == 422


# -- plant-level RBAC --------------------------------------------------------------------------------
async def test_other_plant_is_403_and_leaks_nothing(client, auth, plant, other_plant) -> None:  # type: ignore[no-untyped-def]
    response = await client.post(
        "/v1/rag/query", json={"question": QUESTION, "plant": other_plant}, headers=auth(plants=[plant])
    )
    assert response.status_code == 403
    assert response.json() == {"detail": "Plant access denied"}


async def test_other_plants_equipment_is_403_even_with_own_plant(client, auth, plant, other_equipment) -> None:  # type: ignore[no-untyped-def]
    body = {"question": QUESTION, "plant": plant, "equipment": other_equipment}
    response = await client.post("/v1/rag/query", json=body, headers=auth(plants=[plant]))
    assert response.status_code == 403
    assert response.json() == {"detail": "Equipment access denied"}


async def test_unknown_equipment_of_other_plant_is_403_not_422(client, auth, plant, other_plant) -> None:  # type: ignore[no-untyped-def]
    """Unknown and forbidden look the same, so another plant's registry cannot be probed."""
    body = {"question": QUESTION, "plant": plant, "equipment": f"{other_plant}-ZZZ-999"}
    response = await client.post("/v1/rag/query", json=body, headers=auth(plants=[plant]))
    assert response.status_code == 403


async def test_two_plant_token_may_query_both(client, auth, plant, other_plant) -> None:  # type: ignore[no-untyped-def]
    headers = auth(plants=[plant, other_plant])
    for code in (plant, other_plant):
        response = await client.post("/v1/rag/query", json={"question": QUESTION, "plant": code}, headers=headers)
        assert response.status_code == 200, response.text
        assert response.json()["plant"] == code


async def test_equipment_of_another_accessible_plant_is_422(client, auth, plant, other_plant, other_equipment) -> None:  # type: ignore[no-untyped-def]
    body = {"question": QUESTION, "plant": plant, "equipment": other_equipment}
    response = await client.post("/v1/rag/query", json=body, headers=auth(plants=[plant, other_plant]))
    assert response.status_code == 422
    assert response.json()["detail"][0]["msg"] == "Equipment does not belong to this plant"


async def test_retrieval_never_returns_other_plants_documents(app, plant) -> None:  # type: ignore[no-untyped-def]
    retriever = app.state.services.pipeline.retriever
    for scored in retriever.search("weld robot controller maintenance", plant, None, 20):
        assert scored.chunk.plant == plant


# -- Server-Sent Events ------------------------------------------------------------------------------
async def test_stream_get_sends_progress_tokens_and_final_answer(client, auth, plant) -> None:  # type: ignore[no-untyped-def]
    response = await client.get("/v1/rag/stream", params={"question": QUESTION, "plant": plant}, headers=auth())
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/event-stream")
    events = parse_sse(response.text)
    names = [name for name, _ in events]
    assert names[0] == "retrieval" and names[-1] == "done"
    assert names.count("token") >= 2
    final = events[-1][1]
    assert final["citations"] and final["index_version"].startswith("bm25s-")
    streamed = "".join(data["text"] for name, data in events if name == "token").strip()
    assert streamed == final["answer"]


async def test_stream_post_takes_a_json_body(client, auth, plant) -> None:  # type: ignore[no-untyped-def]
    response = await client.post("/v1/rag/stream", json={"question": QUESTION, "plant": plant}, headers=auth())
    assert response.status_code == 200
    assert parse_sse(response.text)[-1][0] == "done"


async def test_stream_refuses_other_plant_before_streaming(client, auth, plant, other_plant) -> None:  # type: ignore[no-untyped-def]
    response = await client.get(
        "/v1/rag/stream", params={"question": QUESTION, "plant": other_plant}, headers=auth(plants=[plant])
    )
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("application/json")


async def test_stream_validates_query_parameters(client, auth, plant) -> None:  # type: ignore[no-untyped-def]
    response = await client.get(
        "/v1/rag/stream", params={"question": QUESTION, "plant": plant, "top_k": 0}, headers=auth()
    )
    assert response.status_code == 422
    assert ["query", "top_k"] in [err["loc"] for err in response.json()["detail"]]
