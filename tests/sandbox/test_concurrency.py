"""Many clients at once: no task lost, none duplicated, one winner per unique_id."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from sandbox_helpers import PAYLOADS, make_client

from scaleapi.sandbox import Sandbox


def test_500_creates_from_20_threads(scale_sandbox: Sandbox, scale_test_key: str) -> None:
    def create_many(worker: int) -> list[str]:
        with make_client(scale_sandbox.base_url, scale_test_key) as client:
            made = []
            for number in range(25):
                body = {**PAYLOADS["datacollection"], "unique_id": f"w{worker}-{number}"}
                answer = client.post("/task/datacollection", json=body)
                assert answer.status_code == 200, answer.text
                made.append(answer.json()["task_id"])
            return made

    with ThreadPoolExecutor(20) as pool:
        created = [task_id for batch in pool.map(create_many, range(20)) for task_id in batch]
    assert len(created) == len(set(created)) == 500

    listed: list[str] = []
    with make_client(scale_sandbox.base_url, scale_test_key) as client:
        page = client.get("/tasks").json()
        assert page["total"] == 500
        listed += [task["task_id"] for task in page["docs"]]
        while page["has_more"]:
            page = client.get("/tasks", params={"next_token": page["next_token"]}).json()
            listed += [task["task_id"] for task in page["docs"]]
    assert len(listed) == 500 and set(listed) == set(created)


def test_one_winner_per_unique_id(scale_sandbox: Sandbox, scale_test_key: str) -> None:
    body = {**PAYLOADS["categorization"], "unique_id": "contested"}

    def attempt(_: int) -> int:
        with make_client(scale_sandbox.base_url, scale_test_key) as client:
            return client.post("/task/categorization", json=body).status_code

    with ThreadPoolExecutor(20) as pool:
        codes = sorted(pool.map(attempt, range(20)))
    assert codes == [200] + [409] * 19


def test_concurrent_cancels_all_answer_the_one_canceled_task(
    scale_sandbox: Sandbox, scale_live_key: str
) -> None:
    """A repeated cancel answers 200 with the task unchanged (CONTRACT-2x §2): ten at
    once all see the same canceled task, changed once."""
    with make_client(scale_sandbox.base_url, scale_live_key) as client:
        task_id = client.post("/task/categorization", json=PAYLOADS["categorization"]).json()[
            "task_id"
        ]

    def cancel(_: int) -> tuple[int, str, str]:
        with make_client(scale_sandbox.base_url, scale_live_key) as client:
            answer = client.post(f"/task/{task_id}/cancel")
            return answer.status_code, answer.json()["status"], answer.json()["updated_at"]

    with ThreadPoolExecutor(10) as pool:
        answers = set(pool.map(cancel, range(10)))
    assert len(answers) == 1
    ((code, status, _),) = answers
    assert (code, status) == (200, "canceled")
