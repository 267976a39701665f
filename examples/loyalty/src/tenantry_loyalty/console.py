"""The loyalty console page (staff) and a dashboard tile."""

from sqlalchemy import func, select

from core.sdk import ConsoleBlueprint, db, render_page
from tenantry_loyalty import services
from tenantry_loyalty.models import LoyaltyAccount

blp = ConsoleBlueprint("loyalty_console", __name__, url_prefix="/loyalty")
blp.nav("Loyalty", "index")


@blp.route("/")
@blp.page()
def index():
    accounts = db.session.execute(services.list_accounts().limit(100)).scalars().all()
    return render_page("loyalty/index.html", title="Loyalty", accounts=accounts)


@blp.dashboard_tile("Loyalty")
def tile():
    count, points = db.session.execute(
        select(func.count(), func.coalesce(func.sum(LoyaltyAccount.points), 0))).one()
    return [("Customers with points", str(count)), ("Points held", str(points))]
