"""Projects, batches, files and teammates: how an account organises its tasks.

Each is stored per account (`_store.Store`), as the JSON the API answers with. The
rules are the API's as `openapi/scaleapi.yaml` states them (409 for a name in use, 404
for a missing one, what may change in which status); where the record is silent the
spec says what was chosen, and this module does that.
"""

from __future__ import annotations

import hashlib
import json
import mimetypes
import os
import re
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from ._errors import ApiError
from ._files import FileBytes, TooLarge
from ._store import BatchFilters, Duplicate, Store
from ._times import format_ms, now_ms

__all__ = ["MAX_PROJECTS", "MAX_TEAMMATES", "TEMPLATE_TYPES", "Workspace"]

MAX_PROJECTS = 10_000
"""Projects per account (a bound on the bare-array answer of `GET /v1/projects`)."""
MAX_TEAMMATES = 1_000
"""Teammates per account."""
MAX_PARAM_VERSIONS = 1_000
"""Versions in a project's `param_history`."""
TEMPLATE_TYPES = frozenset({"chat", "textcollection"})
"""Project types that have a task template (the spec's choice)."""
_TEMPLATE_VARIABLE = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]{0,99})\s*\}\}")
_PARAM_KEYS = ("version", "created_at")


def _dumps(value: object) -> str:
    return json.dumps(value, separators=(",", ":"))


def _latest_params(project: Mapping[str, Any]) -> dict[str, Any]:
    history: list[dict[str, Any]] = project["param_history"]
    if not history:
        return {}
    return {k: v for k, v in history[-1].items() if k not in _PARAM_KEYS}


class Workspace:
    """The rules of projects, batches, files and teammates, over the store."""

    def __init__(self, store: Store, files: FileBytes) -> None:
        self.store = store
        self.files = files

    # -- projects -------------------------------------------------------------------
    def create_project(self, account: str, data: Mapping[str, Any]) -> str:
        name: str = data["name"]
        stamp = format_ms(now_ms())
        project: dict[str, Any] = {"type": data["type"], "name": name, "param_history": []}
        params = data.get("params")
        if isinstance(params, dict):
            project["param_history"].append({"version": 0, "created_at": stamp, **params})
        project["created_at"] = stamp
        project["rapid"] = bool(data.get("rapid", False))
        project["studio"] = bool(data.get("studio", False))
        for extra in ("pipeline", "datasetId"):
            if data.get(extra) is not None:
                project[extra] = data[extra]
        body = _dumps(project)
        if len(self.store.projects(account, MAX_PROJECTS)) >= MAX_PROJECTS:
            raise ApiError(400, f"An account has at most {MAX_PROJECTS} projects in the sandbox.")
        try:
            self.store.insert_project(account, name, body)
        except Duplicate:
            raise ApiError(409, f"A project named '{name}' already exists.") from None
        return body

    def project(self, account: str, name: str) -> dict[str, Any]:
        body = self.store.get_project(account, name)
        if body is None:
            raise ApiError(404, f"Project not found: {name}")
        project: dict[str, Any] = json.loads(body)
        return project

    def create_quality_task(
        self, account: str, kind: str, task_type: str, data: Mapping[str, Any]
    ) -> str:
        """A Rapid evaluation or training task: it needs a Rapid project (named by
        ``project``, or by the project of ``batch``) of the same task type. The sandbox keeps
        no quality tasks (the API has no route to read them back): it checks and answers."""
        name = data.get("project")
        batch_name = data.get("batch")
        if not isinstance(name, str) and isinstance(batch_name, str):
            batch = self.store.get_batch(account, batch_name)
            if batch is None:
                raise ApiError(404, f"Batch not found: {batch_name}")
            name = json.loads(batch.body).get("project")
        if not isinstance(name, str):
            raise ApiError(400, f"A {kind} task needs a Rapid project: pass project or batch.")
        project = self.project(account, name)
        if not project.get("rapid"):
            raise ApiError(400, f"Project {name} is not a Rapid project.")
        if project.get("type") != task_type:
            raise ApiError(400, f"Project {name} has task type {project.get('type')}.")
        answer: dict[str, Any] = {
            "id": os.urandom(12).hex(),
            "type": task_type,
            "kind": kind,
            "project": name,
            "expected_response": data["expected_response"],
            "created_at": format_ms(now_ms()),
        }
        if "initial_response" in data:
            answer["initial_response"] = data["initial_response"]
        return _dumps(answer)

    def get_project(self, account: str, name: str) -> str:
        return _dumps(self.project(account, name))

    def list_projects(self, account: str, archived: bool | None) -> str:
        if archived is True:  # the sandbox archives nothing
            return "[]"
        return f"[{','.join(self.store.projects(account, MAX_PROJECTS))}]"

    def set_project_params(self, account: str, name: str, data: Mapping[str, Any]) -> str:
        project = self.project(account, name)
        history: list[dict[str, Any]] = project["param_history"]
        if len(history) >= MAX_PARAM_VERSIONS:
            raise ApiError(
                400, f"A project has at most {MAX_PARAM_VERSIONS} versions of its params."
            )
        params = _latest_params(project) if data.get("patch") is True else {}
        params.update((k, v) for k, v in data.items() if k != "patch")
        version = history[-1]["version"] + 1 if history else 0
        history.append({"version": version, "created_at": format_ms(now_ms()), **params})
        body = _dumps(project)
        self.store.update_project(account, name, body)
        return body

    def set_project_ontology(self, account: str, name: str, data: Mapping[str, Any]) -> str:
        project = self.project(account, name)
        project["ontology"] = data["ontology"]
        result: dict[str, Any] = {"project": name, "ontology": data["ontology"]}
        if "name" in data:
            project["ontology_name"] = result["name"] = data["name"]
        self.store.update_project(account, name, _dumps(project))
        return _dumps(result)

    def task_template(self, account: str, name: str) -> str:
        project = self.project(account, name)
        if project["type"] not in TEMPLATE_TYPES:
            raise ApiError(
                400,
                f"Project {name} is of type {project['type']}: only"
                f" {' and '.join(sorted(TEMPLATE_TYPES))} projects have a task template.",
            )
        history: list[dict[str, Any]] = project["param_history"]
        params = _latest_params(project)
        names = dict.fromkeys(_TEMPLATE_VARIABLE.findall(_dumps(params)))
        digest = hashlib.sha256(f"{account}/{name}".encode("utf-8", "surrogatepass"))
        return _dumps(
            {
                "id": digest.hexdigest()[:24],
                "project": name,
                "version": history[-1]["version"] if history else 0,
                "created_at": project["created_at"],
                "updated_at": history[-1]["created_at"] if history else project["created_at"],
                "template_variables": {variable: {"type": "string"} for variable in names},
            }
        )

    # -- batches --------------------------------------------------------------------
    def create_batch(self, account: str, data: Mapping[str, Any]) -> str:
        project = self.project(account, data["project"])
        name: str = data["name"]
        created = now_ms()
        status = "staging" if project.get("rapid") or project.get("studio") else "in_progress"
        batch: dict[str, Any] = {
            "name": name,
            "project": project["name"],
            "status": status,
            "created_at": format_ms(created),
            "callback": data.get("callback", ""),
            "metadata": data.get("metadata", {}),
        }
        for flag in ("calibration_batch", "self_label_batch"):
            if data.get(flag) is True:
                batch[flag] = True
        body = _dumps(batch)
        try:
            self.store.insert_batch(account, name, project["name"], status, created, body)
        except Duplicate:
            raise ApiError(409, f"A batch named '{name}' already exists.") from None
        return body

    def get_batch(self, account: str, name: str) -> str:
        batch = self.store.get_batch(account, name)
        if batch is None:
            raise ApiError(404, f"Batch not found: {name}")
        return batch.body

    def finalize_batch(self, account: str, name: str) -> str:
        batch = self.store.get_batch(account, name)
        if batch is None:
            raise ApiError(404, f"Batch not found: {name}")
        if not batch.finalized:
            status = "in_progress" if batch.status == "staging" else batch.status
            body = json.loads(batch.body)
            body["status"] = status
            self.store.update_batch(account, name, finalized=1, status=status, body=_dumps(body))
            self.refresh_batch(account, name)
        return self.get_batch(account, name)

    def batch_status(self, account: str, name: str) -> str:
        batch = self.store.get_batch(account, name)
        if batch is None:
            raise ApiError(404, f"Batch not found: {name}")
        counts = self.store.batch_counts(account, name)
        answer: dict[str, Any] = {"status": batch.status}
        for status in ("pending", "completed", "error", "canceled"):
            answer[status] = counts.get(status, 0)
        return _dumps(answer)

    def set_batch_metadata(self, account: str, name: str, metadata: dict[str, Any]) -> str:
        batch = self.store.get_batch(account, name)
        if batch is None:
            raise ApiError(404, f"Batch not found: {name}")
        body = json.loads(batch.body)
        body["metadata"] = metadata
        text = _dumps(body)
        self.store.update_batch(account, name, body=text)
        return text

    def list_batches(
        self, account: str, filters: BatchFilters, *, limit: int, offset: int
    ) -> bytes:
        docs, total = self.store.batch_page(account, filters, limit=limit, offset=offset)
        head = {
            "totalDocs": total,
            "limit": limit,
            "offset": offset,
            "has_more": offset + len(docs) < total,
        }
        return f'{{"docs":[{",".join(docs)}],{_dumps(head)[1:]}'.encode()

    def refresh_batch(self, account: str, name: str) -> None:
        """A finalized batch none of whose tasks is pending becomes `completed`."""
        batch = self.store.get_batch(account, name)
        if batch is None or not batch.finalized or batch.status == "completed":
            return
        if self.store.batch_counts(account, name).get("pending", 0):
            return
        stamp = now_ms()
        body = json.loads(batch.body)
        body["status"] = "completed"
        body["completed_at"] = format_ms(stamp)
        self.store.update_batch(
            account, name, status="completed", completed_ms=stamp, body=_dumps(body)
        )

    # -- files ----------------------------------------------------------------------
    def check_reference(self, account: str, reference_id: str | None) -> None:
        if reference_id is not None and self.store.reference_taken(account, reference_id):
            raise ApiError(409, f"A file with reference_id '{reference_id}' already exists.")

    def store_file(
        self,
        account: str,
        fields: Mapping[str, Any],
        *,
        mime_type: str | None,
        chunks: Sequence[bytes] | None,
    ) -> str:
        """Record a file (and keep its bytes, for an upload); its JSON."""
        reference = fields.get("reference_id")
        reference_id = reference if isinstance(reference, str) else None
        self.check_reference(account, reference_id)
        file_id = os.urandom(12).hex()
        stamp = format_ms(now_ms())
        project = fields.get("project_name")
        record: dict[str, Any] = {
            "id": file_id,
            "attachment_url": f"scaledata://{account[:24]}/{file_id}",
            "created_at": stamp,
            "updated_at": stamp,
            "mime_type": mime_type or "application/octet-stream",
            "project_names": [project] if isinstance(project, str) else [],
        }
        size = 0
        if chunks is not None:
            try:
                size = self.files.put(file_id, list(chunks))
            except TooLarge as exc:
                raise ApiError(413, str(exc)) from None
            record["size"] = size
        for name, value in fields.items():
            if name not in ("project_name", "file") and name not in record:
                record[name] = value
        body = _dumps(record)
        try:
            self.store.insert_file(account, file_id, reference_id, size, body)
        except Duplicate:
            raise ApiError(
                409, f"A file with reference_id '{reference_id}' already exists."
            ) from None
        return body

    @staticmethod
    def guess_type(name: str) -> str | None:
        """The media type a file name or URL suggests, if any."""
        path = urlsplit(name).path if "://" in name else name
        return mimetypes.guess_type(path, strict=False)[0]

    # -- teammates ------------------------------------------------------------------
    def teammates(self, account: str) -> str:
        return f"[{','.join(self.store.teammates(account, MAX_TEAMMATES))}]"

    def _team(self, account: str) -> dict[str, dict[str, Any]]:
        members = (json.loads(body) for body in self.store.teammates(account, MAX_TEAMMATES))
        return {member["email"]: member for member in members}

    def invite(self, account: str, emails: Sequence[str], role: str) -> str:
        if role == "admin":
            raise ApiError(400, "Invalid parameter team_role: admin cannot be given by invitation.")
        team = self._team(account)
        new = [email for email in dict.fromkeys(emails) if email not in team]
        if len(team) + len(new) > MAX_TEAMMATES:
            raise ApiError(400, f"A team has at most {MAX_TEAMMATES} members in the sandbox.")
        self.store.put_teammates(
            account, [(email, _dumps({"email": email, "role": role})) for email in new]
        )
        return self.teammates(account)

    def set_role(self, account: str, emails: Sequence[str], role: str) -> str:
        if role == "admin":
            raise ApiError(400, "Invalid parameter team_role: admin cannot be given.")
        team = self._team(account)
        for email in emails:
            member = team.get(email)
            if member is None:
                raise ApiError(400, f"Invalid parameter emails: {email} is not in the team.")
            if member["role"] == "admin":
                raise ApiError(400, f"Invalid parameter emails: {email} is an admin.")
        changed: list[tuple[str, str]] = []
        for email in dict.fromkeys(emails):
            member = dict(team[email], role=role)
            changed.append((email, _dumps(member)))
        self.store.put_teammates(account, changed)
        return self.teammates(account)
