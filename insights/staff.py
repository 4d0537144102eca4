"""Who sees the insights: the permission that opens /insights/.

Code asks for this permission, never for the Managers group by name (see consultancy.roles).
"""

from __future__ import annotations

VIEW_INSIGHTS = "insights.view_insightssettings"
