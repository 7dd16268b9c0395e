from django.urls import include, path

from aftersales.api import views

urlpatterns = [
    path("orders/", views.OrderListPushApi.as_view(), name="order-list"),
    path("orders/<int:order_id>/", views.OrderDetailApi.as_view(), name="order-detail"),
    path("customers/", views.CustomerListApi.as_view(), name="customer-list"),
    path("customers/<int:customer_id>/", views.CustomerDetailApi.as_view(), name="customer-detail"),
    path("products/", views.ProductListApi.as_view(), name="product-list"),
    path("products/<int:product_id>/", views.ProductDetailApi.as_view(), name="product-detail"),
    path("stores/", views.StoreListApi.as_view(), name="store-list"),
    path("", include("tickets.api.urls")),
    path("", include("returns.api.urls")),
    path("", include("repairs.api.urls")),
]
