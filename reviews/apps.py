from django.apps import AppConfig


class ReviewsConfig(AppConfig):
    name = "reviews"
    verbose_name = "Operational Requirements Review"

    def ready(self) -> None:
        from proposals.services import proposal_created
        from reviews.services import on_proposal_created

        proposal_created.connect(on_proposal_created, dispatch_uid="reviews.create_orr_reviews")
