"""What the demo draws from: its accounts, its plans, and the words of client names and tickets."""

from __future__ import annotations

from consultancy.roles import CONSULTANTS, MANAGERS
from contracts.models import Coverage, Priority

DEMO_USERS = [
    # username, password, first, last, group
    ("manager", "demo-manager-2026", "Morgan", "Reyes", MANAGERS),
    ("consultant", "demo-consultant-2026", "Casey", "Nguyen", CONSULTANTS),
    ("jordan", "demo-consultant-2026", "Jordan", "Blake", CONSULTANTS),
    ("priya", "demo-consultant-2026", "Priya", "Raman", CONSULTANTS),
]

# name, monthly price, included hours, coverage, overage rate, {priority: (response, resolution)}
PLANS = [
    ("Essential", "290.00", "4", Coverage.BUSINESS_HOURS, "115.00",
     {Priority.URGENT: (120, 480), Priority.HIGH: (240, 960), Priority.NORMAL: (480, 2400), Priority.LOW: (960, 4800)}),
    ("Professional", "590.00", "10", Coverage.BUSINESS_HOURS, "105.00",
     {Priority.URGENT: (60, 240), Priority.HIGH: (120, 480), Priority.NORMAL: (240, 1440), Priority.LOW: (480, 2880)}),
    ("Premier 24x7", "1190.00", "24", Coverage.ALWAYS, "95.00",
     {Priority.URGENT: (30, 180), Priority.HIGH: (60, 360), Priority.NORMAL: (180, 1440), Priority.LOW: (480, 2880)}),
]  # fmt: skip

NAME_FIRST = [
    "Harbor", "Maple", "Summit", "Cedar", "Bluewater", "Granite", "Willow", "Lakeside", "Pioneer",
    "Riverbend", "Oakridge", "Northgate", "Sterling", "Beacon", "Redwood", "Brightline", "Keystone",
    "Meadow", "Ironwood", "Silverleaf", "Crescent", "Evergreen", "Foxglove", "Hawthorne", "Juniper",
]  # fmt: skip
NAME_SECOND = [
    "Dental", "Family Law", "Accounting", "Veterinary Clinic", "Realty", "Architects", "Insurance",
    "Chiropractic", "Bakery", "Auto Repair", "Physical Therapy", "Wealth Advisors", "Print Shop",
    "Pharmacy", "Logistics", "Engineering", "Optometry", "Landscaping", "Title & Escrow", "Studio",
]  # fmt: skip
NAME_SUFFIX = ["LLC", "Group", "Partners", "& Co.", "Inc.", "Associates", "PC", ""]
PEOPLE_FIRST = ["Ana", "Ben", "Chloe", "Dev", "Elena", "Frank", "Grace", "Hiro", "Ines", "Jack",
                "Kira", "Liam", "Maya", "Noah", "Olga", "Pat", "Quinn", "Rosa", "Sam", "Tess"]  # fmt: skip
PEOPLE_LAST = ["Adams", "Baker", "Chen", "Diaz", "Evans", "Fischer", "Garcia", "Hughes", "Ito",
               "Jones", "Khan", "Lopez", "Miller", "Novak", "Ortiz", "Patel", "Quinn", "Ross"]  # fmt: skip
SUBJECTS = [
    "Email not syncing on {device}", "{device} will not boot", "VPN drops every few minutes",
    "Printer offline on the front desk", "New hire needs an account and laptop", "Backup job failed last night",
    "Wi-Fi slow in the conference room", "Outlook keeps asking for a password", "Ransomware warning popup",
    "Shared drive permissions for {person}", "Phone system not ringing through", "Replace failing disk in {device}",
    "Install accounting software update", "Firewall firmware upgrade", "Scanner does not send to email",
    "Website SSL certificate expiring", "QuickBooks file locked", "{person} locked out of their account",
]  # fmt: skip
DEVICES = [
    "the reception PC",
    "the server",
    "Dr. Patel's laptop",
    "the MacBook",
    "the NAS",
    "workstation 3",
]
PRIORITY_WEIGHTS = {Priority.LOW: 20, Priority.NORMAL: 50, Priority.HIGH: 22, Priority.URGENT: 8}

# Printed under the practice's name on the demo's invoices (the rate card's "invoice details").
INVOICE_DETAILS = """400 Harbor Way, Suite 210, Portland, ME 04101 · billing@northwind-it.example · (207) 555-0142
Pay by bank transfer to Northwind IT Services, account 0012 3456 789, routing 011 000 015,
or by check to the address above."""
