from rest_framework import pagination


class PageNumberPagination(pagination.PageNumberPagination):
    """`?page=N&page_size=M`; page_size is capped so one request cannot pull a whole table."""

    page_size_query_param = "page_size"
    max_page_size = 200
