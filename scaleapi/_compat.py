"""The 1.x/2.x ways of saying things, mapped onto this SDK's: the client's old options
(``api_instance_url``, ``verify``, ``proxies``, ``cert``) and the filters of ``get_tasks``.

Old options keep working, with a ``DeprecationWarning`` that names the new way.
"""

from __future__ import annotations

import datetime
import ssl
import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeAlias

import attrs

from ._exceptions import ScaleInvalidRequest

if TYPE_CHECKING:
    from ._generated import enums
    from ._generated.params import TaskReviewStatus, TaskStatus, TaskType

TimeFilter: TypeAlias = "str | datetime.datetime | datetime.date"
"""A time filter: a datetime (naive means UTC), a date, or an ISO 8601 string."""
ReviewStatus: TypeAlias = "TaskReviewStatus | enums.TaskReviewStatus"
ReviewStatuses: TypeAlias = "ReviewStatus | list[ReviewStatus]"


def _deprecated(old: str, new: str) -> None:
    warnings.warn(f"{old} is deprecated; {new}", DeprecationWarning, stacklevel=4)


@attrs.frozen
class LegacyOptions:
    """The 2.x constructor options, read once and turned into httpx settings."""

    base_url: str | None = None
    verify: bool | ssl.SSLContext | None = None
    proxy: str | None = None

    @classmethod
    def read(
        cls,
        api_instance_url: str | None,
        verify: bool | str | None,
        proxies: Mapping[str, str] | None,
        cert: str | tuple[str, str] | None,
        http_client: object,
    ) -> LegacyOptions:
        if api_instance_url is not None:
            _deprecated("api_instance_url=", "pass base_url= (the same URL)")
        transport = {"verify": verify, "proxies": proxies, "cert": cert}
        given = [name for name, value in transport.items() if value is not None]
        if given and http_client is not None:
            raise ScaleInvalidRequest(
                f"{', '.join(given)} cannot apply to the http_client you passed: "
                "configure that client instead",
                400,
            )
        context: bool | ssl.SSLContext | None = None
        if verify is not None or cert is not None:
            _deprecated("verify= and cert=", "pass http_client=httpx.Client(verify=ssl_context)")
            context = _ssl_context(verify, cert)
        proxy: str | None = None
        if proxies:
            _deprecated("proxies=", "pass proxy= (one URL for every request)")
            proxy = _one_proxy(proxies)
        return cls(api_instance_url, context, proxy)


def _ssl_context(
    verify: bool | str | None, cert: str | tuple[str, str] | None
) -> bool | ssl.SSLContext:
    if verify is False:
        if cert is not None:
            raise ScaleInvalidRequest("cert= needs certificate checks on; drop verify=False", 400)
        return False
    try:
        context = ssl.create_default_context(cafile=verify if isinstance(verify, str) else None)
        if isinstance(cert, str):
            context.load_cert_chain(cert)
        elif cert is not None:
            context.load_cert_chain(cert[0], cert[1])
    except (OSError, ssl.SSLError) as exc:
        raise ScaleInvalidRequest(f"cannot load the TLS files given: {exc}", 400) from None
    return context


def _one_proxy(proxies: Mapping[str, str]) -> str | None:
    """requests' ``proxies`` dict as one proxy URL (httpx's ``proxy``)."""
    urls = {proxies[k] for k in ("https", "http", "all") if proxies.get(k)}
    unknown = sorted(set(proxies) - {"https", "http", "all"})
    if len(urls) > 1 or unknown:
        raise ScaleInvalidRequest(
            "proxies= with different proxies per scheme or host is not supported; pass "
            "http_client=httpx.Client(mounts=...) instead",
            400,
        )
    return urls.pop() if urls else None


def query_time(value: TimeFilter | None) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return value.isoformat()


def task_filters(
    project_name: str | None,
    batch_name: str | None,
    task_type: TaskType | enums.TaskType | None,
    status: TaskStatus | enums.TaskStatus | None,
    review_status: ReviewStatuses | None,
    unique_id: str | list[str] | None,
    completed_after: TimeFilter | None,
    completed_before: TimeFilter | None,
    updated_after: TimeFilter | None,
    updated_before: TimeFilter | None,
    created_after: TimeFilter | None,
    created_before: TimeFilter | None,
    tags: str | list[str] | None,
    include_attachment_url: bool,
    limited_response: bool | None,
) -> dict[str, Any]:
    """The list query of 2.x's ``get_tasks`` (its names, the wire's names out)."""
    if not project_name and not batch_name:
        raise ScaleInvalidRequest("get_tasks needs project_name or batch_name", 400)
    if isinstance(review_status, list):
        review: str | None = ",".join(str(s) for s in review_status)
    else:
        review = review_status
    wire: dict[str, Any] = {
        "project": project_name,
        "batch": batch_name,
        "type": task_type,
        "status": status,
        "customer_review_status": review,
        "unique_id": unique_id,
        "completed_after": query_time(completed_after),
        "completed_before": query_time(completed_before),
        "updated_after": query_time(updated_after),
        "updated_before": query_time(updated_before),
        "start_time": query_time(created_after),
        "end_time": query_time(created_before),
        "tags": tags,
        "include_attachment_url": include_attachment_url,
        "limited_response": limited_response,
    }
    return {k: v for k, v in wire.items() if v is not None}
