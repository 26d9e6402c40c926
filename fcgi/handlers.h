/* handlers.h: one handler per route, h_<resource>_<action>. */
#ifndef HANDLERS_H
#define HANDLERS_H

#include "request.h"

void	h_session_create(struct request *);
void	h_session_delete(struct request *);
void	h_services_list(struct request *);
int	h_services_fuse(struct request *, const char **);
void	h_services_get(struct request *);
void	h_businesses_list(struct request *);
void	h_businesses_get(struct request *);
void	h_locations_list(struct request *);
void	h_availability(struct request *);
int	h_availability_fuse(struct request *, const char **);
void	h_bookings_hold(struct request *);
void	h_bookings_create(struct request *);
void	h_bookings_list(struct request *);
void	h_bookings_get(struct request *);
void	h_bookings_cancel(struct request *);
void	h_bookings_release(struct request *);
void	h_bookings_reschedule(struct request *);
void	h_bookings_update(struct request *);
void	h_webhooks_create(struct request *);
void	h_webhooks_list(struct request *);
void	h_webhooks_get(struct request *);
void	h_webhooks_delete(struct request *);
void	h_webhooks_deliveries(struct request *);
void	h_webhooks_retry(struct request *);

#endif
